import { readFileSync } from "node:fs";
import { runProbe, type ProbeReport } from "../probe/probe.js";
import { percentile, round } from "../probe/stats.js";
import { probeLogin, startGateway, type GatewayProcess } from "../testing/gateway-process.js";

/**
 * `make bench`, gateway part: the virtual board at 1280x720@30, 2 Mbit/s,
 * loopback, filming the realistic scene (the bars would cost a quarter of
 * the bitrate asked, and every viewer with them: docs/firmware-sim.md,
 * "Scenes"). Prints
 *   - time from the offer's publish to the first decoded frame (N connects),
 *   - glass-to-glass latency at the probe (frame stamp -> decoded),
 *   - the gateway's CPU and RSS with 1, 10 and 50 probe viewers, and the CPU
 *     each extra viewer costs.
 * Figures only; nothing here passes or fails.
 */

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64 and arm64.

function cpuSeconds(pid: number): number {
  // /proc/PID/stat fields 14 and 15: utime and stime in clock ticks (proc(5)).
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function connects(gw: GatewayProcess, n: number): Promise<ProbeReport[]> {
  const reports: ProbeReport[] = [];
  for (let i = 0; i < n; i++) {
    // The last viewer leaving stops the camera, so every connect also pays
    // for starting capture and encoder, as a first viewer does.
    reports.push(
      await runProbe({
        ...probeLogin(gw),
        deviceId: "bench",
        seconds: 5,
        untilFirstFrame: true,
      }),
    );
    // One offer a second per viewer is the device's limit past a burst of 8
    // (dispatcher.ts): faster, a quiet machine got "busy" for 5 of 24.
    await new Promise((r) => setTimeout(r, 1000));
  }
  return reports;
}

async function loadStep(
  gw: GatewayProcess,
  viewers: number,
  seconds: number,
): Promise<{ cpu: number; rss: number; ok: number }> {
  // One account per viewer: a viewer may hold two sessions at once.
  const logins = await Promise.all(
    Array.from({ length: viewers }, (_, i) => gw.addViewer(`load${viewers}-${i + 1}`)),
  );
  const probes = logins.map((login) =>
    runProbe({
      ...probeLogin(gw, login),
      deviceId: "bench",
      seconds: seconds + 6,
      decode: false,
    }),
  );
  // Let every viewer connect and settle before measuring.
  await new Promise((r) => setTimeout(r, 5000));
  const c0 = cpuSeconds(gw.pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = (cpuSeconds(gw.pid) - c0) / ((performance.now() - t0) / 1000);
  const rss = rssMiB(gw.pid);
  const reports = await Promise.all(probes);
  return { cpu, rss, ok: reports.filter((r) => r.video).length };
}

export async function gatewayBench(
  options: { connects?: number; steps?: number[]; seconds?: number } = {},
): Promise<void> {
  const steps = options.steps ?? [1, 10, 50];
  const gw = await startGateway({
    sim: { scene: "realistic" },
    args: [
      "--device-id",
      "bench",
      "--size",
      "1280x720",
      "--fps",
      "30",
      "--bitrate",
      "2000",
      "--max-viewers",
      String(Math.max(...steps) + 2),
    ],
  });
  try {
    const n = options.connects ?? 20;
    const reports = await connects(gw, n);
    const ttff = reports.flatMap((r) =>
      r.timeToFirstFrameMs === null ? [] : [r.timeToFirstFrameMs],
    );
    const answers = reports.flatMap((r) => (r.answerMs === null ? [] : [r.answerMs]));
    console.log(
      `gateway: ${n} connects, 1280x720@30 2 Mbit/s, virtual board (pi4, realistic scene), loopback`,
    );
    console.log(
      `  answer after offer        p50 ${round(percentile(answers, 50))} ms  p95 ${round(percentile(answers, 95))} ms`,
    );
    console.log(
      `  first decoded frame       p50 ${round(percentile(ttff, 50))} ms  p95 ${round(percentile(ttff, 95))} ms  (${ttff.length}/${n} got video; target p50 <= 300 ms)`,
    );

    const watch = await runProbe({
      ...probeLogin(gw),
      deviceId: "bench",
      seconds: 10,
    });
    const g = watch.glassToGlassMs;
    console.log(
      `  glass-to-glass (probe)    p50 ${g?.p50 ?? "-"} ms  p95 ${g?.p95 ?? "-"} ms  over ${g?.samples ?? 0} frames, ${watch.fps} fps, ${watch.bitrateKbps} kbit/s (target p50 <= 80 ms)`,
    );

    const idleCpu0 = cpuSeconds(gw.pid);
    await new Promise((r) => setTimeout(r, 3000));
    const idleCpu = (cpuSeconds(gw.pid) - idleCpu0) / 3;
    console.log(
      `  gateway idle              CPU ${round(idleCpu * 100)}%  RSS ${round(rssMiB(gw.pid))} MiB`,
    );
    const results: { viewers: number; cpu: number; rss: number; ok: number }[] = [];
    for (const viewers of steps) {
      const r = await loadStep(gw, viewers, options.seconds ?? 10);
      results.push({ viewers, ...r });
      console.log(
        `  ${String(viewers).padStart(2)} viewers                CPU ${round(r.cpu * 100)}% of a core  RSS ${round(r.rss)} MiB  (${r.ok}/${viewers} got video)`,
      );
      await new Promise((r) => setTimeout(r, 2000));
    }
    const first = results[0];
    const last = results.at(-1);
    if (first && last && last.viewers > first.viewers) {
      const perViewer = (last.cpu - first.cpu) / (last.viewers - first.viewers);
      console.log(
        `  CPU per extra viewer      ${round(perViewer * 100, 2)}% of a core (${first.viewers} -> ${last.viewers} viewers)`,
      );
    }
    console.log(
      "  (probe viewers run in the bench process and share the machine's 2 cores with the gateway)",
    );
  } finally {
    await gw.stop();
  }
}
