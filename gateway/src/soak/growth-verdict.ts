/**
 * Whether a figure of the gateway process grew over the soak. Viewers come
 * and go, each costing sockets, timers and memory; the camera closes while
 * it is unplugged and the encoder may switch to x264 (more threads, fewer
 * device fds) for 10 min: comparing two moments would mostly compare what
 * ran then. The verdict fits value = a + b . state + c x time (least
 * squares; the state is what the gateway was running: live sessions,
 * source open, software encoder) over the samples after warm-up and calls
 * c x (the time they span) the growth: the drift that what ran does not
 * explain. The medians of the first and last quarters are shown beside it
 * for a person to check.
 */

export interface Point {
  /** ms since the soak started. */
  t: number;
  value: number;
  /** What the gateway was running then (live sessions, source open, ...), same order in every point. */
  state: readonly number[];
}

export interface Growth {
  /** The fitted level at the first sample, at the mean load. */
  start: number;
  /** The fitted drift over the samples' span. */
  growth: number;
  firstQuarterMedian: number;
  lastQuarterMedian: number;
}

export interface GrowthLimit {
  name: string;
  unit: string;
  /** Fails when growth exceeds this (absolute)... */
  absolute: number;
  /** ...and, when given, this fraction of the start too. */
  relative?: number;
}

export interface GrowthVerdict extends Growth {
  limit: GrowthLimit;
  failed: boolean;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Solves a small linear system by Gaussian elimination; null when singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(m[r]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = r;
    const p = m[pivot];
    if (!p || Math.abs(p[col] ?? 0) < 1e-9) return null;
    [m[col], m[pivot]] = [p, m[col] ?? p];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const row = m[r] ?? [];
      const f = (row[col] ?? 0) / (p[col] ?? 1);
      for (let k = col; k <= n; k++) row[k] = (row[k] ?? 0) - f * (p[k] ?? 0);
    }
  }
  return m.map((row, i) => (row[n] ?? 0) / (row[i] ?? 1));
}

/** Least squares of value on the given regressors (each a function of a point). */
function fit(points: readonly Point[], regressors: ((p: Point) => number)[]): number[] | null {
  const k = regressors.length;
  const ata = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const atb = new Array<number>(k).fill(0);
  for (const p of points) {
    const x = regressors.map((f) => f(p));
    for (let i = 0; i < k; i++) {
      atb[i] = (atb[i] ?? 0) + (x[i] ?? 0) * p.value;
      const row = ata[i] ?? [];
      for (let j = 0; j < k; j++) row[j] = (row[j] ?? 0) + (x[i] ?? 0) * (x[j] ?? 0);
    }
  }
  return solve(ata, atb);
}

export function growthOf(points: readonly Point[]): Growth {
  const quarter = Math.max(1, Math.floor(points.length / 4));
  const firstQuarterMedian = median(points.slice(0, quarter).map((p) => p.value));
  const lastQuarterMedian = median(points.slice(-quarter).map((p) => p.value));
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || points.length < 3 || last.t === first.t)
    return { start: first?.value ?? Number.NaN, growth: 0, firstQuarterMedian, lastQuarterMedian };
  // Time in minutes from the first sample keeps the system well scaled.
  const t = (p: Point): number => (p.t - first.t) / 60_000;
  // A state that never changed explains nothing (and would make the fit singular).
  const regressors: ((p: Point) => number)[] = [() => 1];
  for (let i = 0; i < first.state.length; i++) {
    const values = points.map((p) => p.state[i] ?? 0);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    if (values.some((v) => v !== values[0])) regressors.push((p) => (p.state[i] ?? 0) - mean);
  }
  const coef = fit(points, [...regressors, t]) ?? fit(points, [() => 1, t]);
  const slope = coef?.at(-1) ?? 0;
  return {
    start: coef?.[0] ?? first.value,
    growth: slope * t(last),
    firstQuarterMedian,
    lastQuarterMedian,
  };
}

export function judgeGrowth(points: readonly Point[], limit: GrowthLimit): GrowthVerdict {
  const g = growthOf(points);
  const failed =
    g.growth > limit.absolute &&
    (limit.relative === undefined || g.growth > limit.relative * Math.abs(g.start));
  return { ...g, limit, failed };
}
