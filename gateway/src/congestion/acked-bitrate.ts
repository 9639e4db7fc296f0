/**
 * The acknowledged bitrate: how fast packets reached the viewer, from the
 * arrival times transport-cc feedback reports. The delay-based controller
 * decreases to a fraction of it and never increases far past it.
 *
 * Like libwebrtc's BitrateEstimator: bytes are summed over windows of
 * 150 ms (500 ms for the first sample) of arrival time, and each window's
 * rate updates a Bayesian estimate that trusts a sample less the further it
 * lies from the estimate (uncertainty 10 x the relative difference), with
 * the estimate's own variance growing a little per sample so that it can
 * follow real changes.
 */

const INITIAL_WINDOW_MS = 500;
const WINDOW_MS = 150;
const INITIAL_VARIANCE = 50;
const VARIANCE_GROWTH = 5;
const FAST_CHANGE_VARIANCE = 200;

export class AckedBitrate {
  private sumBytes = 0;
  private windowElapsedMs = 0;
  private lastArrivalMs: number | undefined;
  /** kbit/s, undefined until the first window closed. */
  private estimateKbps: number | undefined;
  private variance = INITIAL_VARIANCE;

  /** bit/s, once known. */
  get bps(): number | undefined {
    return this.estimateKbps === undefined ? undefined : this.estimateKbps * 1000;
  }

  /** Adds one acknowledged packet (in arrival order). */
  add(arrivalMs: number, bytes: number): void {
    const window = this.estimateKbps === undefined ? INITIAL_WINDOW_MS : WINDOW_MS;
    const sample = this.updateWindow(arrivalMs, bytes, window);
    if (sample === undefined) return;
    if (this.estimateKbps === undefined) {
      this.estimateKbps = sample;
      return;
    }
    const uncertainty = (10 * Math.abs(this.estimateKbps - sample)) / this.estimateKbps;
    const sampleVariance = uncertainty * uncertainty;
    const predicted = this.variance + VARIANCE_GROWTH;
    this.estimateKbps =
      (sampleVariance * this.estimateKbps + predicted * sample) / (sampleVariance + predicted);
    this.variance = (sampleVariance * predicted) / (sampleVariance + predicted);
  }

  /** The rate is about to change a lot (a probe, leaving an application-limited phase). */
  expectFastChange(): void {
    this.variance += FAST_CHANGE_VARIANCE;
  }

  private updateWindow(arrivalMs: number, bytes: number, windowMs: number): number | undefined {
    if (this.lastArrivalMs !== undefined && arrivalMs < this.lastArrivalMs) {
      // The receiver's clock went back: start over.
      this.lastArrivalMs = undefined;
      this.sumBytes = 0;
      this.windowElapsedMs = 0;
    }
    if (this.lastArrivalMs !== undefined) {
      this.windowElapsedMs += arrivalMs - this.lastArrivalMs;
      // Nothing arrived for a whole window: the old bytes say nothing of now.
      if (arrivalMs - this.lastArrivalMs > windowMs) {
        this.sumBytes = 0;
        this.windowElapsedMs %= windowMs;
      }
    }
    this.lastArrivalMs = arrivalMs;
    let sample: number | undefined;
    if (this.windowElapsedMs >= windowMs) {
      sample = (8 * this.sumBytes) / windowMs; // bytes/ms * 8 = kbit/s
      this.windowElapsedMs -= windowMs;
      this.sumBytes = 0;
    }
    this.sumBytes += bytes;
    return sample;
  }
}
