/**
 * A scenario run (run-scenario.ts) as figures, on one clock: seconds after
 * video started flowing (the run's `startedAt`). The gateway's sent rate
 * comes from /metrics byte counters (everything it sent: media, RTX,
 * padding), the picture from the first viewer's probe timeline.
 */
import type { ProbeReport } from "../probe/probe.js";
import { percentile, round } from "../probe/stats.js";
import type { GatewaySample } from "./metrics-sampler.js";
import type { Scenario } from "./scenarios.js";

/** Who sent the video: camgw, or the libwebrtc reference (reference-call.ts). */
export type Sender = "camgw" | "libwebrtc";

/** What figures need of a viewer's record: the probe's, or the reference viewer's. */
export type ViewerRecord = Pick<
  ProbeReport,
  "offerAt" | "watchedMs" | "frames" | "freezeList" | "timeline" | "sizes"
>;

/** One call of a scenario, whoever sent (run-scenario.ts, reference-call.ts). */
export interface CallRecord {
  sender: Sender;
  scenario: Scenario;
  /** Second 0 of the schedule, ms since the epoch. */
  startedAt: number;
  /** The sender's counters once a second. */
  samples: readonly GatewaySample[];
  /** One per viewer, in the scenario's order. */
  reports: readonly ViewerRecord[];
}

/** One second of the call, s after video started. */
export interface SecondPoint {
  atS: number;
  value: number;
}

export interface Quantiles {
  p50: number;
  p95: number;
}

export interface ViewerFigures {
  site: string;
  /** Video payload received, kbit/s, median over the window's seconds. */
  receivedKbps: number | null;
  /** The same over the window's later half (once encodings have settled). */
  receivedLateKbps: number | null;
  /**
   * The sizes the viewer decoded and from when, s on the schedule's clock
   * ("640x480 from -1.2 s, 320x240 from 12.3 s"; null: no picture).
   */
  sizes: string | null;
  fpsMedian: number | null;
  fpsMin: number | null;
  freezes: number;
  freezeMs: number;
  glassToGlass: Quantiles | null;
}

export interface ScenarioFigures {
  sender: Sender;
  name: string;
  title: string;
  adapt: boolean;
  capKbps: number | null;
  /** Sent kbit/s before the window (median), when there is a before. */
  beforeKbps: number | null;
  /** Sent kbit/s in the window's later half (median): what the sender settled at. */
  windowKbps: number | null;
  /** The encoder's target in the window's later half (median), kbit/s; 0: fixed. */
  encoderTargetKbps: number | null;
  /** The lowest viewer estimate in the window's later half (median), kbit/s. */
  lowestEstimateKbps: number | null;
  /** From the cap to the first second the sent rate was at or under it, s (null: not while it lasted). */
  underCapS: number | null;
  /** Frames shown per second in the window (first viewer): median and the worst second. */
  fpsMedian: number | null;
  fpsMin: number | null;
  /** Freezes (webrtc-stats' definition) overlapping the window, and how much of it they took. */
  freezes: number;
  freezeMs: number;
  glassToGlassDuring: Quantiles | null;
  glassToGlassAfter: Quantiles | null;
  /** From the end of the cap to the first second back at 80 % of the rate before it, s. */
  climbBackS: number | null;
  /** Whether a viewer far below the others could get a second, lower encoding. */
  lowEncoding: boolean;
  /** Viewers on the second encoding in the window's later half (median of /metrics); null: never known. */
  viewersOnLowEncoding: number | null;
  /** Every viewer's own figures over the window (two-viewer scenarios). */
  viewers: ViewerFigures[];
  /** The sent rate second by second (for a person reading a run). */
  sentKbps: SecondPoint[];
  /** The encoder's target and the lowest estimate at each sample, kbit/s. */
  gauges: { atS: number; targetKbps: number; estimateKbps: number }[];
}

const median = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : round(percentile(xs, 50));

/** The gateway's sent rate per interval between samples, at the interval's middle. */
export function sentRate(run: CallRecord): SecondPoint[] {
  const out: SecondPoint[] = [];
  for (let i = 1; i < run.samples.length; i++) {
    const a = run.samples[i - 1];
    const b = run.samples[i];
    if (!a || !b || b.at <= a.at) continue;
    const kbps = ((b.bytesSent - a.bytesSent) * 8) / (b.at - a.at);
    if (!Number.isFinite(kbps)) continue;
    out.push({ atS: ((a.at + b.at) / 2 - run.startedAt) / 1000, value: round(kbps) });
  }
  return out;
}

function gauge(run: CallRecord, read: (s: GatewaySample) => number): SecondPoint[] {
  return run.samples
    .map((s) => ({ atS: (s.at - run.startedAt) / 1000, value: read(s) }))
    .filter((p) => Number.isFinite(p.value));
}

const within = (points: readonly SecondPoint[], fromS: number, toS: number): number[] =>
  points.filter((p) => p.atS >= fromS && p.atS < toS).map((p) => p.value);

/** A probe's whole seconds that lie within [fromS, toS) of the run. */
function probeSeconds(run: CallRecord, report: ViewerRecord, fromS: number, toS: number) {
  return (report.timeline ?? []).filter((s) => {
    const startS = (report.offerAt + s.atMs - run.startedAt) / 1000;
    return startS >= fromS && startS + 1 <= toS;
  });
}

function quantiles(samples: readonly number[]): Quantiles | null {
  if (samples.length === 0) return null;
  return { p50: round(percentile(samples, 50)), p95: round(percentile(samples, 95)) };
}

/** Freezes overlapping [fromS, toS), and how much of the window they took. */
function freezesIn(run: CallRecord, report: ViewerRecord, fromS: number, toS: number) {
  // No frame at all is no freeze in webrtc-stats' terms, but the whole
  // window frozen for the person watching.
  if (report.frames === 0) return { count: 1, ms: round((toS - fromS) * 1000) };
  let count = 0;
  let ms = 0;
  for (const f of report.freezeList) {
    const startS = (report.offerAt + f.atMs - run.startedAt) / 1000;
    const endS = startS + f.durationMs / 1000;
    const overlap = Math.min(endS, toS) - Math.max(startS, fromS);
    if (overlap <= 0) continue;
    count++;
    ms += overlap * 1000;
  }
  return { count, ms: round(ms) };
}

/**
 * Each freeze overlapping [fromS, toS): when it started, s after the
 * window's start (negative: before it), and how long it lasted, ms. For the
 * bench's timelines (where in the window the freeze time went).
 */
export function freezeTimes(
  run: CallRecord,
  report: ViewerRecord,
  fromS: number,
  toS: number,
): { atS: number; ms: number }[] {
  return report.freezeList
    .map((f) => ({
      startS: (report.offerAt + f.atMs - run.startedAt) / 1000,
      ms: f.durationMs,
    }))
    .filter((f) => f.startS + f.ms / 1000 > fromS && f.startS < toS)
    .map((f) => ({ atS: round(f.startS - fromS, 2), ms: round(f.ms) }));
}

function viewerFigures(
  run: CallRecord,
  report: ViewerRecord,
  site: string,
  fromS: number,
  toS: number,
): ViewerFigures {
  const seconds = probeSeconds(run, report, fromS, toS);
  const fps = seconds.map((s) => s.frames);
  const f = freezesIn(run, report, fromS, toS);
  const late = probeSeconds(run, report, fromS + (toS - fromS) / 2, toS);
  return {
    site,
    receivedKbps: median(seconds.map((s) => s.kbps)),
    receivedLateKbps: median(late.map((s) => s.kbps)),
    sizes:
      report.sizes
        .map((x) => {
          const atS = (report.offerAt + x.atMs - run.startedAt) / 1000;
          return `${x.width}x${x.height} from ${atS.toFixed(1)} s`;
        })
        .join(", ") || null,
    fpsMedian: median(fps),
    fpsMin: fps.length ? Math.min(...fps) : null,
    freezes: f.count,
    freezeMs: f.ms,
    glassToGlass: quantiles(seconds.flatMap((s) => s.glassToGlassMs)),
  };
}

/** How long the call lasted on the schedule's clock (the probes' end). */
function endS(run: CallRecord): number {
  const ends = run.reports.map((r) => (r.offerAt + r.watchedMs - run.startedAt) / 1000);
  return Math.min(run.scenario.seconds, ...ends);
}

export function scenarioFigures(run: CallRecord): ScenarioFigures {
  const { scenario } = run;
  const { fromS, toS, capBps } = scenario.window;
  const capKbps = capBps === undefined ? null : capBps / 1000;
  const sent = sentRate(run);
  const lateFromS = fromS + (toS - fromS) / 2;
  const end = endS(run);
  // The first 2 s are the call's start (the first key frame, the estimate's start).
  const beforeKbps = fromS >= 4 ? median(within(sent, 2, fromS)) : null;
  const first = run.reports[0];
  const viewers = run.reports.map((r, i) =>
    viewerFigures(run, r, scenario.viewers[i]?.site ?? `viewer${i + 1}`, fromS, toS),
  );
  const during = viewers[0];
  const under =
    capKbps === null
      ? undefined
      : sent.find((p) => p.atS >= fromS && p.atS < Math.min(toS, end) && p.value <= capKbps);
  const hasAfter = toS < end - 1;
  const back =
    hasAfter && beforeKbps !== null
      ? sent.find((p) => p.atS >= toS && p.value >= 0.8 * beforeKbps)
      : undefined;
  const after = first && hasAfter ? probeSeconds(run, first, toS, end) : [];
  return {
    sender: run.sender,
    name: scenario.name,
    title: scenario.title,
    adapt: scenario.adapt,
    capKbps,
    beforeKbps,
    windowKbps: median(within(sent, lateFromS, toS)),
    encoderTargetKbps: median(
      within(
        gauge(run, (s) => s.encoderTargetKbps),
        lateFromS,
        toS,
      ),
    ),
    lowestEstimateKbps: median(
      within(
        gauge(run, (s) => s.lowestEstimateBps / 1000),
        lateFromS,
        toS,
      ),
    ),
    underCapS: under ? round(Math.max(0, under.atS - fromS)) : null,
    fpsMedian: during?.fpsMedian ?? null,
    fpsMin: during?.fpsMin ?? null,
    freezes: during?.freezes ?? 0,
    freezeMs: during?.freezeMs ?? 0,
    glassToGlassDuring: during?.glassToGlass ?? null,
    glassToGlassAfter: quantiles(after.flatMap((s) => s.glassToGlassMs)),
    climbBackS: back ? round(back.atS - toS) : null,
    lowEncoding: scenario.lowEncoding !== false,
    viewersOnLowEncoding: median(
      within(
        gauge(run, (s) => s.viewersOnLowEncoding ?? Number.NaN),
        lateFromS,
        toS,
      ),
    ),
    viewers,
    sentKbps: sent,
    gauges: run.samples.map((x) => ({
      atS: (x.at - run.startedAt) / 1000,
      targetKbps: x.encoderTargetKbps,
      estimateKbps: x.lowestEstimateBps / 1000,
    })),
  };
}
