/**
 * `make bench`, recovery part (root only; `node tools/bench.js recovery`):
 * each disturbance of recovery.ts (the board's address changes, its link
 * is down 5 s, the broker is down 5 s) while a probe viewer plays, a few
 * times over (RECOVERY_RUNS, default 3), one lab for all. Per run: network
 * back -> first new frame at the viewer, how long the picture stood still,
 * and how video came back (ICE restart on the same session, or a new
 * session); per disturbance the median and range. Figures only;
 * recovery.e2e.test.ts asserts.
 */
import { percentile, round } from "../probe/stats.js";
import {
  DISTURBANCES,
  recoveryFigures,
  startRecoveryLab,
  watchThrough,
  type RecoveryFigures,
} from "./recovery.js";

function runsWanted(): number {
  const n = Number(process.env.RECOVERY_RUNS ?? "3");
  return Number.isInteger(n) && n > 0 ? n : 3;
}

/** "812 ms (640-1210)": the median (min-max), or "-" without samples. */
function spread(samples: readonly number[]): string {
  if (samples.length === 0) return "-";
  const ms = (v: number): string => `${round(v, 0)}`;
  const lo = Math.min(...samples);
  const hi = Math.max(...samples);
  const range = lo === hi ? "" : ` (${ms(lo)}-${ms(hi)})`;
  return `${ms(percentile(samples, 50))} ms${range}`;
}

function runText(f: RecoveryFigures): string {
  const back = f.backToFrameMs === null ? "-" : `${f.backToFrameMs} ms`;
  const how =
    f.method === "ice-restart" || f.method === "new-session"
      ? `${f.method}${f.attempts > 1 ? ` (${f.attempts} attempts)` : ""}, on ${f.trigger ?? "?"}`
      : f.method;
  const why = f.why === null ? "" : ` (${f.why})`;
  return `back->frame ${back}, freeze ${f.freezeMs} ms, ${how}${why}`;
}

export async function recoveryBench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("recovery: skipped (needs root)");
    return;
  }
  const runs = runsWanted();
  const lab = await startRecoveryLab();
  const rows: string[][] = [];
  try {
    console.log(
      `recovery: board behind eim, probe viewer behind eim, STUN + TURN from the gateway; ${runs} run(s) each`,
    );
    for (const d of DISTURBANCES) {
      const figures: RecoveryFigures[] = [];
      for (let i = 0; i < runs; i++) {
        try {
          const watch = await watchThrough(lab, `bench-${d.name}-${i + 1}`, d);
          const f = recoveryFigures(watch);
          figures.push(f);
          console.log(`  ${d.what}, run ${i + 1}: ${runText(f)}`);
        } catch (err) {
          // Not a recovery figure: the viewer never played before the disturbance.
          const first = (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
          console.log(`  ${d.what}, run ${i + 1}: not run (${first.slice(0, 300)})`);
        }
      }
      const back = figures.flatMap((f) => (f.backToFrameMs === null ? [] : [f.backToFrameMs]));
      const methods = new Map<string, number>();
      for (const f of figures) methods.set(f.method, (methods.get(f.method) ?? 0) + 1);
      rows.push([
        d.what,
        spread(back),
        spread(figures.map((f) => f.freezeMs)),
        [...methods].map(([m, n]) => `${m} ${n}/${figures.length}`).join(", "),
      ]);
    }
  } finally {
    await lab.close();
  }
  const table = [["event", "back -> first frame", "freeze", "recovered by"], ...rows];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? "").length))) ?? [];
  for (const r of table) {
    console.log(
      r
        .map((v, i) => v.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    );
  }
  console.log(
    "(median (min-max) over the runs; back -> first frame: network back to the first new frame)",
  );
}
