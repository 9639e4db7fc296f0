import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProbe, type ProbeReport } from "../probe/probe.js";
import { round } from "../probe/stats.js";
import {
  freezeAfter,
  metric,
  metrics,
  resumedAfter,
  videoFlowing,
} from "../testing/fault-watch.js";
import { probeLogin, startGateway, type GatewayProcess } from "../testing/gateway-process.js";

/**
 * `make bench`, faults part: the virtual board at 1280x720@30, one probe
 * watching, each fault of firmware-sim switched on through its live control
 * file once video flows, one run each. Prints per fault what the viewer
 * lost: the time to recover (the freeze around a one-off fault: from the
 * last frame before it to the first after; for a lasting fault, its longest
 * freeze) and the frames lost (the camera's rate times the time watched,
 * minus the frames decoded), with the gateway's recovery counters.
 * Figures only; nothing here passes or fails.
 */

interface FaultCase {
  name: string;
  /** The control file's content while the fault is on. */
  faults: string;
  /** How long it stays on, ms (a one-off fault: until it is over). */
  onMs: number;
  /** A one-off (the freeze around it is the recovery) or lasting (frames lost matter). */
  kind: "once" | "lasting";
}

const CASES: FaultCase[] = [
  { name: "none", faults: "", onMs: 6000, kind: "lasting" },
  { name: "unplug for 2 s", faults: "unplug", onMs: 2000, kind: "once" },
  { name: "stall 3 s", faults: "stall:ms=3000", onMs: 4000, kind: "once" },
  { name: "drop 5%", faults: "drop:rate=0.05", onMs: 6000, kind: "lasting" },
  { name: "eio 5%", faults: "eio:rate=0.05", onMs: 6000, kind: "lasting" },
  { name: "corrupt 5%", faults: "corrupt:rate=0.05", onMs: 6000, kind: "lasting" },
  { name: "drift +1000 ppm", faults: "drift:ppm=1000", onMs: 6000, kind: "lasting" },
  { name: "enc-lag 150 ms", faults: "enc-lag:ms=150", onMs: 6000, kind: "lasting" },
  // Last: the software encoder it leads to is kept for 10 min.
  { name: "enc-stop", faults: "enc-stop", onMs: 6000, kind: "once" },
];

const FPS = 30;
const RECOVERY_COUNTERS = [
  "reopens",
  "encoder_restarts",
  "stall_restarts",
  "encoder_fallbacks",
] as const;

async function runCase(
  gw: GatewayProcess,
  control: string,
  c: FaultCase,
): Promise<{ report: ProbeReport; onAt: number; offAt: number; counters: string }> {
  const before = await metrics(gw);
  const watching = runProbe({
    ...probeLogin(gw),
    deviceId: "bench",
    seconds: Math.ceil((c.onMs + 6000) / 1000),
  });
  await videoFlowing(gw);
  const onAt = performance.timeOrigin + performance.now();
  writeFileSync(control, c.faults);
  await new Promise((r) => setTimeout(r, c.onMs));
  writeFileSync(control, "");
  const offAt = performance.timeOrigin + performance.now();
  const report = await watching;
  const after = await metrics(gw);
  const counters = RECOVERY_COUNTERS.map((k) => {
    const name = `camgw_source_${k}_total`;
    return [k, metric(after, name) - metric(before, name)] as const;
  })
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return { report, onAt, offAt, counters };
}

export async function faultBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "camgw-fault-bench-"));
  const control = join(dir, "faults");
  writeFileSync(control, "");
  const gw = await startGateway({
    sim: { controlFile: control, seed: 1 },
    args: ["--device-id", "bench", "--size", "1280x720", "--fps", String(FPS)],
  });
  console.log(
    "faults: 1280x720@30 2 Mbit/s, virtual board (pi4), loopback, one probe; one run each",
  );
  console.log(
    "  fault               recover (ms)  frames lost  fps   freezes  decode errors  PLIs  gateway",
  );
  try {
    for (const c of CASES) {
      const { report: r, onAt, offAt, counters } = await runCase(gw, control, c);
      // One-off: unplug, from the camera's return to the next frame; stall and
      // enc-stop, the freeze they caused. Lasting: the longest freeze.
      const replug = c.name.startsWith("unplug");
      const freeze = freezeAfter(r, onAt);
      const recover =
        c.kind === "lasting"
          ? r.longestFreezeMs
          : replug
            ? (resumedAfter(r, offAt) ?? Number.NaN)
            : (freeze?.durationMs ?? Number.NaN);
      const firstFrameMs = r.timeToFirstFrameMs ?? 0;
      const watchedS = (r.watchedMs - firstFrameMs) / 1000;
      const lost = Math.max(0, Math.round(watchedS * FPS) - r.frames);
      const label = replug ? "after replug " : "";
      console.log(
        `  ${c.name.padEnd(18)}  ${`${label}${Number.isNaN(recover) ? "never" : round(recover, 0)}`.padStart(12)}  ${String(lost).padStart(11)}  ${String(r.fps).padStart(4)}  ${String(r.freezes).padStart(7)}  ${String(r.decodeErrors).padStart(13)}  ${String(r.plisSent).padStart(4)}  ${counters || "-"}${r.ended ? ` (ended: ${r.ended})` : ""}`,
      );
    }
    console.log(
      "  (recover: unplug from the camera's return to the next decoded frame; stall and enc-stop the freeze they caused;",
    );
    console.log(
      "   lasting faults: the longest freeze. frames lost: 30 fps x time watched - frames decoded)",
    );
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
