import { runProbe } from "../probe/probe.js";
import { percentile, round } from "../probe/stats.js";
import { probeLogin, startGateway } from "../testing/gateway-process.js";

/**
 * `make bench`, ICE servers part: what asking the device for its ICE
 * servers (the `ice-servers` round trip of docs/signaling.md, which every
 * viewer makes before its offer unless it has them) costs in time to first
 * frame on a LAN. The same gateway, connects alternating between a probe
 * that asks (`from-device`, what the web viewer does on its first call) and
 * one given an empty list (`--ice-servers none`: no round trip), so both see
 * the same machine load. Figures only; nothing here passes or fails.
 */
export async function iceServersBench(options: { pairs?: number } = {}): Promise<void> {
  const gw = await startGateway({
    args: ["--device-id", "bench", "--size", "1280x720", "--fps", "30", "--bitrate", "2000"],
  });
  try {
    const pairs = options.pairs ?? 12;
    const asked: number[] = [];
    const given: number[] = [];
    const answers = { asked: [] as number[], given: [] as number[] };
    for (let i = 0; i < pairs * 2; i++) {
      const ask = i % 2 === 0;
      const r = await runProbe({
        ...probeLogin(gw),
        deviceId: "bench",
        seconds: 5,
        untilFirstFrame: true,
        ...(ask ? {} : { iceServers: [] }),
      });
      if (r.timeToFirstFrameMs !== null) (ask ? asked : given).push(r.timeToFirstFrameMs);
      if (r.answerMs !== null) (ask ? answers.asked : answers.given).push(r.answerMs);
      // The last viewer leaving stops the camera: every connect pays for a
      // camera start, as a first viewer on a LAN does.
      // One offer a second per viewer is the device's limit past a burst of 8
      // (dispatcher.ts): faster, a quiet machine got "busy" for 5 of 24.
      await new Promise((r) => setTimeout(r, 1000));
    }
    const line = (name: string, ttff: number[], answer: number[]): string =>
      `  ${name.padEnd(26)}first frame p50 ${round(percentile(ttff, 50))} ms  p95 ${round(percentile(ttff, 95))} ms  answer p50 ${round(percentile(answer, 50))} ms  (${ttff.length}/${pairs} got video)`;
    console.log(
      `ice servers: ${pairs} connects each, alternating, 1280x720@30 2 Mbit/s, virtual board, loopback`,
    );
    console.log(line("asked the device", asked, answers.asked));
    console.log(line("given (none, no ask)", given, answers.given));
    const a = percentile(asked, 50);
    const g = percentile(given, 50);
    if (Number.isFinite(a) && Number.isFinite(g) && g > 0) {
      console.log(
        `  asking costs              ${round(a - g)} ms at p50 (ratio ${round(a / g, 2)}); one signaling round trip through the broker`,
      );
    }
  } finally {
    await gw.stop();
  }
}
