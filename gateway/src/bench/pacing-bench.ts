import { percentile, round } from "../probe/stats.js";
import { encodeTestClip } from "../testing/test-clip.js";
import { ClipSource } from "../webrtc/testing/clip-source.js";
import { connectViewer, LOOPBACK } from "../webrtc/testing/harness.js";
import type { ReceivedFrame } from "../webrtc/receive/headless-viewer.js";
import { SessionManager, type SessionManagerOptions } from "../webrtc/session-manager.js";

/**
 * `make bench`, pacing part: what the paced sender costs in latency. One
 * real 1280x720@30 H.264 clip (libx264, ~2 Mbit/s, an IDR of ~75 KiB every 2 s), the
 * session manager and a headless viewer in this process on loopback, each
 * frame's capture -> complete-at-the-viewer time (abs-capture-time, one
 * clock), key frames apart from the rest. Scenarios run in turns, in the
 * same run:
 *   - unpaced (packets leave as the encoder makes them);
 *   - paced, the estimate free (on loopback the probes take it far above
 *     the stream: pacing barely holds anything back);
 *   - paced, the estimate held at 1.25x the stream's rate (a link just
 *     above the stream: the pacer's real operating point, where a key frame
 *     is spread out).
 * Figures only; nothing here passes or fails.
 */

interface Scenario {
  name: string;
  options: Partial<SessionManagerOptions>;
}

interface Sample {
  keyMs: number[];
  deltaMs: number[];
  queueMeanMs: number;
  queueMaxMs: number;
}

const STREAM_BPS = 2_000_000;

async function measure(
  clip: Awaited<ReturnType<typeof encodeTestClip>>,
  scenario: Scenario,
  seconds: number,
): Promise<Sample> {
  const source = new ClipSource(clip, { width: 1280, height: 720, fps: 30 });
  const manager = new SessionManager({
    streams: { main: source },
    ice: LOOPBACK,
    ...scenario.options,
  });
  const keyMs: number[] = [];
  const deltaMs: number[] = [];
  const { viewer } = await connectViewer(manager, "bench");
  const onFrame = (frame: ReceivedFrame): void => {
    if (frame.captureUnixUs === undefined) return;
    (frame.keyframe ? keyMs : deltaMs).push((frame.receivedAtUs - frame.captureUnixUs) / 1000);
  };
  viewer.on("frame", onFrame);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const video = manager.stats.video;
  await viewer.close();
  await manager.close();
  await source.close();
  return {
    keyMs,
    deltaMs,
    queueMeanMs: video.pacerQueueDelayCount
      ? video.pacerQueueDelaySumMs / video.pacerQueueDelayCount
      : 0,
    queueMaxMs: video.pacerQueueDelayMaxMs,
  };
}

function line(label: string, samples: number[]): string {
  if (samples.length === 0) return `  ${label.padEnd(18)} (no samples)`;
  return `  ${label.padEnd(18)} p50 ${String(round(percentile(samples, 50))).padStart(6)} ms  p95 ${String(round(percentile(samples, 95))).padStart(6)} ms  (n=${samples.length})`;
}

export async function pacingBench(
  options: { rounds?: number; seconds?: number } = {},
): Promise<void> {
  const rounds = options.rounds ?? 3;
  const seconds = options.seconds ?? 10;
  const clip = await encodeTestClip({
    width: 1280,
    height: 720,
    fps: 30,
    frames: 300,
    gop: 60,
    // Static noise over testsrc: a textured picture whose key frames are ~10x
    // a P-frame (~75 KiB at 2 Mbit/s), as a camera's are.
    extra: ["-vf", "noise=alls=10:allf=u", "-b:v", "2M", "-maxrate", "2M", "-bufsize", "2M"],
  });
  const keyBytes = clip.filter((u) => u.keyframe).map((u) => u.data.length);
  const held = 1.25 * STREAM_BPS;
  const scenarios: Scenario[] = [
    { name: "unpaced", options: { pacing: false } },
    { name: "paced, estimate free", options: {} },
    {
      name: `paced at ${held / 1e6} Mbit/s`,
      options: { bandwidth: { startBps: held, minBps: held, maxBps: held } },
    },
  ];
  const results = new Map<string, Sample[]>(scenarios.map((s) => [s.name, []]));
  for (let round_ = 0; round_ < rounds; round_++) {
    for (const scenario of scenarios)
      results.get(scenario.name)?.push(await measure(clip, scenario, seconds));
  }
  console.log(
    `camgw pacing bench: 1280x720@30 libx264 ~${STREAM_BPS / 1e6} Mbit/s, key frames ~${Math.round(
      keyBytes.reduce((a, b) => a + b, 0) / Math.max(1, keyBytes.length) / 1024,
    )} KiB, ${rounds} x ${seconds} s per scenario, capture -> frame complete at a headless viewer (loopback)`,
  );
  for (const scenario of scenarios) {
    const runs = results.get(scenario.name) ?? [];
    const key = runs.flatMap((r) => r.keyMs);
    const delta = runs.flatMap((r) => r.deltaMs);
    const queueMean = runs.reduce((s, r) => s + r.queueMeanMs, 0) / Math.max(1, runs.length);
    const queueMax = Math.max(0, ...runs.map((r) => r.queueMaxMs));
    console.log(`${scenario.name}:`);
    console.log(line("key frames", key));
    console.log(line("other frames", delta));
    console.log(
      `  pacer queue        mean ${round(queueMean, 2)} ms, max ${round(queueMax)} ms per packet`,
    );
  }
}
