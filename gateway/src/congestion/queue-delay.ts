/**
 * How long the latest packet reported by transport-cc feedback waited in
 * the path's queues: its one-way delay (arrival on the receiver's clock
 * minus send time on ours) above the least one-way delay seen. The two
 * clocks' offset cancels out; their drift over a call (tens of ppm) does
 * not matter at the hundreds of milliseconds a full bottleneck queue holds.
 * The estimator uses it to size the drain after a saturated cut
 * (bandwidth-estimator.ts).
 */

/** A one-way delay this much below the base is a receiver clock reset, not a faster path. */
const CLOCK_RESET_MS = 10_000;

export class QueueDelay {
  private baseMs: number | undefined;
  private latestMs: number | undefined;
  private latestArrivalMs = Number.NEGATIVE_INFINITY;

  /**
   * One received packet: when it was sent (ours) and arrived (the
   * receiver's clock), ms. Returns its queueing delay, ms.
   */
  add(sendTimeMs: number, arrivalMs: number): number {
    const oneWay = arrivalMs - sendTimeMs;
    if (this.baseMs === undefined || oneWay < this.baseMs - CLOCK_RESET_MS) {
      this.baseMs = oneWay;
      this.latestMs = oneWay;
      this.latestArrivalMs = arrivalMs;
      return 0;
    }
    this.baseMs = Math.min(this.baseMs, oneWay);
    if (arrivalMs >= this.latestArrivalMs) {
      this.latestArrivalMs = arrivalMs;
      this.latestMs = oneWay;
    }
    return oneWay - this.baseMs;
  }

  /** The latest packet's queueing delay, ms; undefined before the first. */
  get ms(): number | undefined {
    if (this.baseMs === undefined || this.latestMs === undefined) return undefined;
    return this.latestMs - this.baseMs;
  }
}
