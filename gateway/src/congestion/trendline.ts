/**
 * Delay-based overuse detection: a trendline filter over the one-way delay
 * gradients of packet groups and an overuse detector with an adaptive
 * threshold (draft-ietf-rmcat-gcc-02 sections 5.3 and 5.4, as libwebrtc's
 * goog_cc refined them: its TrendlineEstimator replaced the draft's Kalman
 * filter).
 *
 * Each group delta adds its delay gradient to an accumulated delay, which
 * is smoothed (exponentially, coefficient 0.9) and kept with its arrival
 * time in a window of 20 points. The least-squares slope of that window is
 * the trend: ~0 while queues are steady, positive while a queue builds
 * (roughly (send rate - capacity) / capacity), negative while one drains.
 *
 * The trend, scaled by min(deltas seen, 60) x 4, is compared with a
 * threshold that follows the scaled trend itself (up slowly, k_up =
 * 0.0087/ms, down faster, k_down = 0.039/ms, within 6..600), so that
 * steady jitter on a noisy path does not read as congestion while a real
 * queue build-up still does (draft section 5.4, "adaptive threshold").
 * Overuse needs the trend above the threshold for more than 10 ms over at
 * least two deltas, and not falling.
 */

export type BandwidthUsage = "normal" | "overusing" | "underusing";

const WINDOW = 20;
const SMOOTHING = 0.9;
const THRESHOLD_GAIN = 4;
const MAX_DELTAS = 60;
const DELTA_COUNTER_MAX = 1000;
const OVERUSE_TIME_MS = 10;
const K_UP = 0.0087;
const K_DOWN = 0.039;
/** Trends further than this beyond the threshold do not move it (sudden capacity drops). */
const MAX_ADAPT_OFFSET_MS = 15;
const MAX_THRESHOLD_STEP_MS = 100;
const INITIAL_THRESHOLD = 12.5;
const MIN_THRESHOLD = 6;
const MAX_THRESHOLD = 600;

interface Point {
  readonly arrivalMs: number;
  readonly smoothedDelayMs: number;
}

export class TrendlineDetector {
  private deltas = 0;
  private firstArrivalMs: number | undefined;
  private accumulatedDelayMs = 0;
  private smoothedDelayMs = 0;
  private readonly window: Point[] = [];
  private previousTrend = 0;
  private overuseTimeMs: number | undefined;
  private overuseCount = 0;
  private lastThresholdUpdateMs: number | undefined;
  private _threshold = INITIAL_THRESHOLD;
  private _modifiedTrend = 0;
  private _usage: BandwidthUsage = "normal";

  get usage(): BandwidthUsage {
    return this._usage;
  }

  /** The current adaptive threshold (ms-scaled trend units). */
  get threshold(): number {
    return this._threshold;
  }

  /** The latest trend as compared with the threshold. */
  get modifiedTrend(): number {
    return this._modifiedTrend;
  }

  /** Adds one group delta; returns the detector's state after it. */
  update(arrivalDeltaMs: number, sendDeltaMs: number, arrivalMs: number): BandwidthUsage {
    const delayDeltaMs = arrivalDeltaMs - sendDeltaMs;
    this.deltas = Math.min(this.deltas + 1, DELTA_COUNTER_MAX);
    this.firstArrivalMs ??= arrivalMs;
    this.accumulatedDelayMs += delayDeltaMs;
    this.smoothedDelayMs =
      SMOOTHING * this.smoothedDelayMs + (1 - SMOOTHING) * this.accumulatedDelayMs;
    this.window.push({
      arrivalMs: arrivalMs - this.firstArrivalMs,
      smoothedDelayMs: this.smoothedDelayMs,
    });
    if (this.window.length > WINDOW) this.window.shift();
    let trend = this.previousTrend;
    if (this.window.length === WINDOW) trend = linearFitSlope(this.window) ?? trend;
    this.detect(trend, sendDeltaMs, arrivalMs);
    return this._usage;
  }

  private detect(trend: number, sendDeltaMs: number, nowMs: number): void {
    if (this.deltas < 2) {
      this._usage = "normal";
      return;
    }
    const modified = Math.min(this.deltas, MAX_DELTAS) * trend * THRESHOLD_GAIN;
    this._modifiedTrend = modified;
    if (modified > this._threshold) {
      // Assume overuse began halfway through the last interval.
      this.overuseTimeMs =
        this.overuseTimeMs === undefined ? sendDeltaMs / 2 : this.overuseTimeMs + sendDeltaMs;
      this.overuseCount++;
      if (
        this.overuseTimeMs > OVERUSE_TIME_MS &&
        this.overuseCount > 1 &&
        trend >= this.previousTrend
      ) {
        this.overuseTimeMs = 0;
        this.overuseCount = 0;
        this._usage = "overusing";
      }
    } else if (modified < -this._threshold) {
      this.overuseTimeMs = undefined;
      this.overuseCount = 0;
      this._usage = "underusing";
    } else {
      this.overuseTimeMs = undefined;
      this.overuseCount = 0;
      this._usage = "normal";
    }
    this.previousTrend = trend;
    this.updateThreshold(modified, nowMs);
  }

  private updateThreshold(modified: number, nowMs: number): void {
    this.lastThresholdUpdateMs ??= nowMs;
    if (Math.abs(modified) > this._threshold + MAX_ADAPT_OFFSET_MS) {
      this.lastThresholdUpdateMs = nowMs;
      return;
    }
    const k = Math.abs(modified) < this._threshold ? K_DOWN : K_UP;
    const dt = Math.min(nowMs - this.lastThresholdUpdateMs, MAX_THRESHOLD_STEP_MS);
    this._threshold += k * (Math.abs(modified) - this._threshold) * dt;
    this._threshold = Math.min(MAX_THRESHOLD, Math.max(MIN_THRESHOLD, this._threshold));
    this.lastThresholdUpdateMs = nowMs;
  }
}

/** Least-squares slope of smoothed delay over arrival time; undefined when all x are equal. */
function linearFitSlope(points: readonly Point[]): number | undefined {
  let sumX = 0;
  let sumY = 0;
  for (const p of points) {
    sumX += p.arrivalMs;
    sumY += p.smoothedDelayMs;
  }
  const meanX = sumX / points.length;
  const meanY = sumY / points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.arrivalMs - meanX) * (p.smoothedDelayMs - meanY);
    den += (p.arrivalMs - meanX) ** 2;
  }
  return den === 0 ? undefined : num / den;
}
