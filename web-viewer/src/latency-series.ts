/**
 * A bounded series of latency samples (ms) with the figures the stats panel and
 * the tests read: last, p50, p95. The oldest sample drops out first.
 */
export interface LatencySummary {
  readonly count: number;
  readonly last: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly min: number | null;
  readonly max: number | null;
}

/** Nearest-rank percentile (p in [0, 100]) of already sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export class LatencySeries {
  readonly capacity: number;
  readonly #values: number[] = [];
  /** Samples ever added, including those that dropped out. */
  #total = 0;

  constructor(capacity = 300) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  push(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.#values.push(ms);
    if (this.#values.length > this.capacity) this.#values.shift();
    this.#total++;
  }

  get total(): number {
    return this.#total;
  }

  /** The samples held, oldest first. */
  values(): readonly number[] {
    return this.#values;
  }

  clear(): void {
    this.#values.length = 0;
  }

  summary(): LatencySummary {
    const sorted = [...this.#values].sort((a, b) => a - b);
    return {
      count: this.#total,
      last: this.#values.at(-1) ?? null,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      min: sorted[0] ?? null,
      max: sorted.at(-1) ?? null,
    };
  }
}
