import type { GatewaySample } from "./gateway-sampler.js";
import type { GrowthVerdict } from "./growth-verdict.js";

/** The soak's printed table: one row per sample, then the growth verdicts. */

/** What the viewers had seen by a sample. */
export interface ViewerTally {
  /** Viewer processes watching now. */
  viewers: number;
  /** Freezes of the viewers that have left (judged when they leave). */
  freezes: number;
  /** Of those, past their budget. */
  overBudget: number;
  /** Outages the viewers came back from (ICE restart or new session), live. */
  recoveries: number;
}

interface Column {
  title: string;
  width: number;
  cell: (s: GatewaySample, v: ViewerTally, now: string) => string;
}

const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : "-");

export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

const COLUMNS: Column[] = [
  { title: "time", width: 5, cell: (s) => clock(s.t) },
  { title: "viewers", width: 7, cell: (_s, v) => String(v.viewers) },
  { title: "sess", width: 4, cell: (s) => fixed(s.sessions, 0) },
  { title: "fps out", width: 7, cell: (s) => fixed(s.fpsOut, 1) },
  { title: "RSS MB", width: 6, cell: (s) => fixed(s.rssMb, 1) },
  { title: "heap MB", width: 7, cell: (s) => fixed(s.heapMb, 1) },
  { title: "fds", width: 4, cell: (s) => String(s.fds) },
  { title: "thr", width: 3, cell: (s) => String(s.threads) },
  { title: "handles", width: 7, cell: (s) => String(s.handles) },
  { title: "timers", width: 6, cell: (s) => String(s.timers) },
  { title: "lag p99", width: 7, cell: (s) => fixed(s.lagP99Ms, 1) },
  { title: "lag max", width: 7, cell: (s) => fixed(s.lagMaxMs, 1) },
  { title: "freezes", width: 7, cell: (_s, v) => String(v.freezes) },
  { title: "over", width: 4, cell: (_s, v) => String(v.overBudget) },
  { title: "recov", width: 5, cell: (_s, v) => String(v.recoveries) },
  { title: "load", width: 4, cell: (s) => fixed(s.load, 1) },
  { title: "now", width: 0, cell: (_s, _v, now) => now },
];

export function tableHeader(): string {
  return COLUMNS.map((c) => c.title.padStart(c.width))
    .join("  ")
    .trimEnd();
}

/** One row; `now` names the fault or broker outage going on ("" when calm). */
export function tableRow(sample: GatewaySample, tally: ViewerTally, now: string): string {
  return COLUMNS.map((c) => c.cell(sample, tally, now).padStart(c.width))
    .join("  ")
    .trimEnd();
}

/** The growth verdict of one figure, a line. */
export function growthLine(v: GrowthVerdict): string {
  const { name, unit, absolute, relative } = v.limit;
  const limit = `limit +${absolute}${unit}${relative === undefined ? "" : ` and +${relative * 100}%`}`;
  const sign = v.growth >= 0 ? "+" : "";
  return `  ${name.padEnd(9)} ${v.failed ? "GREW" : "ok  "}  trend ${sign}${fixed(v.growth, 1)}${unit} from ${fixed(v.start, 1)}${unit} (${limit}); quarter medians ${fixed(v.firstQuarterMedian, 1)} -> ${fixed(v.lastQuarterMedian, 1)}`;
}
