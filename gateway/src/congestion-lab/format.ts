/** Scenario figures (figures.ts) as the bench's table, for a person. */
import type { Quantiles, ScenarioFigures } from "./figures.js";

const n = (v: number | null, digits = 0): string => (v === null ? "-" : v.toFixed(digits));
const q = (v: Quantiles | null): string => (v ? `${Math.round(v.p50)}/${Math.round(v.p95)}` : "-");

const COLUMNS = [
  "scenario",
  "sender",
  "adapt",
  "cap",
  "before",
  "in window",
  "enc target",
  "lowest est",
  "under cap s",
  "fps med/min",
  "freezes n/ms",
  "g2g during",
  "g2g after",
  "back s",
] as const;

function row(f: ScenarioFigures): string[] {
  return [
    f.name,
    f.sender,
    f.sender === "libwebrtc" ? "own" : f.adapt ? "on" : "off",
    n(f.capKbps),
    n(f.beforeKbps),
    n(f.windowKbps),
    f.adapt ? n(f.encoderTargetKbps) : "fixed",
    n(f.lowestEstimateKbps),
    f.capKbps === null ? "" : n(f.underCapS, 1),
    `${n(f.fpsMedian)}/${n(f.fpsMin)}`,
    `${f.freezes}/${Math.round(f.freezeMs)}`,
    q(f.glassToGlassDuring),
    q(f.glassToGlassAfter),
    n(f.climbBackS, 1),
  ];
}

/** One table: a row per run, and one line per viewer for runs with several. */
export function formatFigures(all: readonly ScenarioFigures[]): string {
  const rows = all.map(row);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const out = [line(COLUMNS)];
  for (const [i, f] of all.entries()) {
    out.push(line(rows[i] ?? []));
    if (f.viewers.length < 2) continue;
    out.push(
      `    second encoding ${f.lowEncoding ? "on" : "off"}; viewers on it (later half, median): ${n(f.viewersOnLowEncoding)}`,
    );
    for (const v of f.viewers) {
      out.push(
        `    ${v.site}: received ${n(v.receivedKbps)} kbit/s (later half ${n(v.receivedLateKbps)}), fps ${n(v.fpsMedian)}/${n(v.fpsMin)}, freezes ${v.freezes}/${Math.round(v.freezeMs)} ms, g2g ${q(v.glassToGlass)}; pictures ${v.sizes ?? "-"}`,
      );
    }
  }
  return out.join("\n");
}

/** Adaptation on / off, per scenario run both ways: freeze time and the rate in the window. */
export function formatRatios(all: readonly ScenarioFigures[]): string {
  const out: string[] = [];
  for (const on of all.filter((f) => f.adapt && f.sender === "camgw")) {
    const off = all.find((f) => !f.adapt && f.sender === "camgw" && f.name === on.name);
    if (!off) continue;
    const ratio =
      off.freezeMs > 0 ? (on.freezeMs / off.freezeMs).toFixed(2) : on.freezeMs > 0 ? "inf" : "-";
    out.push(
      `${on.name}: freeze time on/off ${Math.round(on.freezeMs)}/${Math.round(off.freezeMs)} ms = ${ratio}`,
    );
  }
  return out.join("\n");
}

/** a / b for a person: "-" when either is missing, "inf" over zero. */
function ratio(a: number | null, b: number | null): string {
  if (a === null || b === null) return "-";
  if (b === 0) return a === 0 ? "both 0" : "inf";
  return (a / b).toFixed(2);
}

/**
 * camgw against the libwebrtc reference, per scenario both ran (issue 16:
 * "print camgw / libwebrtc ratios for adaptation time and freeze time"):
 * adaptation time is `under cap s` (caps only), freeze time the window's;
 * below 1, camgw did better.
 */
export function formatReferenceRatios(all: readonly ScenarioFigures[]): string {
  const out: string[] = [];
  for (const ref of all.filter((f) => f.sender === "libwebrtc")) {
    const cg = all.find((f) => f.sender === "camgw" && f.adapt && f.name === ref.name);
    if (!cg) continue;
    const parts: string[] = [];
    if (ref.capKbps !== null) {
      parts.push(
        `adaptation ${n(cg.underCapS, 1)}/${n(ref.underCapS, 1)} s = ${ratio(cg.underCapS, ref.underCapS)}`,
      );
    }
    parts.push(
      `freeze time ${Math.round(cg.freezeMs)}/${Math.round(ref.freezeMs)} ms = ${ratio(cg.freezeMs, ref.freezeMs)}`,
      `fps med ${n(cg.fpsMedian)}/${n(ref.fpsMedian)}`,
      `g2g p95 during ${n(cg.glassToGlassDuring?.p95 ?? null)}/${n(ref.glassToGlassDuring?.p95 ?? null)} ms`,
    );
    if (ref.capKbps !== null && cg.climbBackS !== null && ref.climbBackS !== null) {
      parts.push(`back ${n(cg.climbBackS, 1)}/${n(ref.climbBackS, 1)} s`);
    }
    out.push(`${ref.name}: ${parts.join(", ")}`);
  }
  return out.join("\n");
}

/**
 * The run second by second, compact: sent kbit/s, the encoder's target and
 * the lowest viewer estimate (kbit/s), for reading which of them lags.
 */
export function formatSentSeries(f: ScenarioFigures): string {
  const points = f.sentKbps
    .filter((p) => p.atS >= 0)
    .map((p) => {
      const at = Math.round(p.atS);
      const near = f.gauges.find((g) => Math.abs(g.atS - p.atS) < 0.6);
      const k = (v: number): string => (Number.isFinite(v) ? String(Math.round(v)) : "-");
      const extra = near ? `/${k(near.targetKbps)}/${k(near.estimateKbps)}` : "";
      return `${at}=${Math.round(p.value)}${extra}`;
    });
  const how = f.sender === "libwebrtc" ? "libwebrtc" : f.adapt ? "adapting" : "fixed";
  return `${f.name} (${how}) s=sent/target/estimate kbit/s: ${points.join(" ")}`;
}
