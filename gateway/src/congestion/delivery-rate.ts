/**
 * How fast packets reached the viewer just now: bytes received over the
 * last `windowMs` of arrival time, from transport-cc feedback, with no
 * smoothing. The acknowledged bitrate (acked-bitrate.ts) smooths over many
 * 150 ms windows and trusts a sample the less the further it lies from its
 * estimate, so when a link drops from 2.6 Mbit/s to 300 kbit/s it still
 * says 1.7-2 Mbit/s half a second later (the network lab's cap-300-mid:
 * the first cut went to 1.67 Mbit/s, the rate came under the cap 0.7 s
 * after the overuse was seen). While the bottleneck's queue is full and
 * drops packets, it sends at exactly its rate, so the raw arrival rate of
 * that moment is the link's capacity: the estimator cuts to it when
 * overuse and heavy loss say the link is saturated
 * (bandwidth-estimator.ts).
 */

/** Arrival time the rate is measured over, ms: a few of Chrome's 50-100 ms feedback intervals. */
const DEFAULT_WINDOW_MS = 300;
/** Fewer packets, or a shorter span, than this say nothing. */
const MIN_PACKETS = 5;
const MIN_SPAN_MS = 100;

export class DeliveryRate {
  private readonly arrivals: { atMs: number; bytes: number }[] = [];
  /** Bytes of every arrival in the window: kept as they come and go, not summed per read. */
  private bytes = 0;

  constructor(private readonly windowMs = DEFAULT_WINDOW_MS) {}

  /** One received packet (in arrival order within a feedback message). */
  add(arrivalMs: number, bytes: number): void {
    const last = this.arrivals.at(-1);
    // The receiver's clock went back (a reset): start over.
    if (last && arrivalMs < last.atMs - this.windowMs) {
      this.arrivals.length = 0;
      this.bytes = 0;
    }
    this.arrivals.push({ atMs: arrivalMs, bytes });
    this.bytes += bytes;
    const newest = Math.max(arrivalMs, last?.atMs ?? arrivalMs);
    while ((this.arrivals[0]?.atMs ?? newest) < newest - this.windowMs) {
      this.bytes -= this.arrivals.shift()?.bytes ?? 0;
    }
  }

  /**
   * bit/s over the window, undefined with too little to go on. The first
   * packet's bytes are not counted: the span runs from its arrival.
   */
  get bps(): number | undefined {
    const first = this.arrivals[0];
    const last = this.arrivals.at(-1);
    if (!first || !last || this.arrivals.length < MIN_PACKETS) return undefined;
    const spanMs = last.atMs - first.atMs;
    if (spanMs < MIN_SPAN_MS) return undefined;
    return ((this.bytes - first.bytes) * 8 * 1000) / spanMs;
  }
}
