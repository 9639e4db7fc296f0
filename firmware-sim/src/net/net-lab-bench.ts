/**
 * `make bench`, network lab part (root only): what the lab itself costs,
 * so figures measured through it can be read against it. Prints
 *   - how long a lab takes to build and to remove (median of 3),
 *   - the round trip through two emulated links with no impairment,
 *   - the most one link emulator carries (1200-byte datagrams, offered fast),
 *   - time to first frame and glass-to-glass from the virtual board behind
 *     a home NAT to a probe behind another, through the board's srflx
 *     candidate (STUN from the lab's coturn).
 * Figures only; nothing here passes or fails.
 */
import { percentile, round } from "../../../gateway/src/probe/stats.js";
import { startNetLab } from "./net-lab.js";

const median = (xs: number[]): number => round(percentile(xs, 50));

export async function netLabBench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("network lab: skipped (needs root)");
    return;
  }
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const lab = await startNetLab({ boardNat: "eim", viewerNats: ["eim"] });
    up.push(performance.now() - t0);
    const t1 = performance.now();
    await lab.close();
    down.push(performance.now() - t1);
  }
  console.log(
    `lab up ${median(up)} ms, removed in ${median(down)} ms (median of 3; 7 namespaces, coturn, Mosquitto)`,
  );

  const lab = await startNetLab({ boardNat: "none", viewerNats: ["eim"], broker: false });
  try {
    const echo = await lab.agent("turn");
    await echo.bind("echo", { address: "198.18.0.2", port: 4000, echo: true });
    await echo.bind("sink", { address: "198.18.0.2", port: 5000 });
    const board = await lab.agent("board");
    await board.bind("ping");
    const rtts = (
      await board.ping("ping", "198.18.0.2:4000", { count: 200, intervalMs: 5 })
    ).filter((r): r is number => r !== null);
    console.log(
      `round trip board -> turn host, no impairment (2 emulated links each way): ` +
        `p50 ${round(percentile(rtts, 50))} ms, p95 ${round(percentile(rtts, 95))} ms (${rtts.length}/200 answered)`,
    );
    await board.bind("blast");
    await echo.sink("sink");
    const before = await lab.stats("board");
    await board.blast("blast", "198.18.0.2:5000", 40_000, 20_000, 1200);
    await new Promise((r) => setTimeout(r, 500));
    const report = await echo.sinkReport("sink");
    const after = await lab.stats("board");
    const spanS = ((report.lastMs ?? 0) - (report.firstMs ?? 0)) / 1000;
    console.log(
      `one link emulator, 1200-byte datagrams offered at up to 192 Mbit/s: ` +
        `${round((report.bytes * 8) / spanS / 1e6)} Mbit/s delivered, ` +
        `${report.seqs.length}/40000 arrived (${after.up.in - before.up.in} reached the emulator, ` +
        `${after.up.overflow - before.up.overflow} dropped there)`,
    );
  } finally {
    await lab.close();
  }

  const nat = await startNetLab({ boardNat: "eim", viewerNats: ["eim"] });
  try {
    // The realistic scene: 2 Mbit/s through the links, as a real camera sends (the bars send ~550 kbit/s).
    await nat.startGateway({
      sim: { scene: "realistic" },
      args: [...nat.iceArgs(["stun"]), "--device-id", "bench"],
    });
    const ttff: number[] = [];
    let g2g = "";
    for (let i = 0; i < 5; i++) {
      const r = await nat.probe("viewer1", { deviceId: "bench", seconds: 3, ice: ["stun"] });
      if (r.timeToFirstFrameMs !== null) ttff.push(r.timeToFirstFrameMs);
      if (r.glassToGlassMs)
        g2g = `glass-to-glass p50 ${r.glassToGlassMs.p50} ms, p95 ${r.glassToGlassMs.p95} ms`;
    }
    console.log(
      `home NAT to home NAT through srflx (STUN), realistic scene: time to first frame p50 ${median(ttff)} ms ` +
        `(${ttff.length}/5 connects), last run's ${g2g}`,
    );
  } finally {
    await nat.close();
  }
}
