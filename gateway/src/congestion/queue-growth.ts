/**
 * A bottleneck's queue filling at more than twice its rate, seen in the
 * first transport-cc feedback after it starts: the sender's first sign
 * that a link dropped far below the stream.
 *
 * A packet's queueing delay q = arrival - send - base, so over packets
 * that arrive back to back through a busy bottleneck
 *
 *     dq / d(arrival) = 1 - delivered rate / sent rate.
 *
 * A queue growing by half a millisecond or more per millisecond of arrival
 * time means the packets went in at twice the rate they come out at, and
 * while a queue stands the bottleneck is busy, so what arrives is its
 * capacity. The trendline (trendline.ts) needs two packet groups over its
 * threshold after smoothing over twenty, and a group closes only when the
 * next one's first packet arrives: with the network lab's 2.6 Mbit/s into
 * 300 kbit/s a frame takes ~0.3 s to cross, so its overuse came ~0.55 s
 * after the cap, once the 400 ms queue had delivered its content, with the
 * loss; this reads the delay of each packet as it comes and sees the
 * queue's growth ~150 ms after the cap (a feedback interval and 100 ms of
 * arrivals).
 *
 * A jitter spike does not look like this (the held packets then arrive in
 * a burst: delivered fast, the delay falling), nor does a paced key frame
 * (under 2.5 x the estimate, its queue grows slower); the estimator also
 * acts only when the delivered rate is far below its estimate
 * (bandwidth-estimator.ts).
 */

/** Arrival time the growth is judged over, ms: two or three feedback intervals. */
const WINDOW_MS = 150;
/** Fewer packets, or a shorter span of arrivals, say nothing. */
const MIN_PACKETS = 4;
const MIN_SPAN_MS = 80;
/** Growth per ms of arrival: the packets went in at twice the rate they came out. */
const MIN_GROWTH = 0.5;
/** No gap between arrivals may take more than this share of the run. */
const MAX_GAP_SHARE = 0.5;
/** A queue shorter than this is not worth a drain whatever its growth. */
const MIN_QUEUE_MS = 60;
/** Arrival times are in transport-cc's 250 µs ticks, and the fastest packet's serialization is in the base. */
const BUSY_TOLERANCE_MS = 1;

interface Arrival {
  readonly arrivalMs: number;
  readonly queueMs: number;
  readonly bytes: number;
}

export interface QueueGrowthReading {
  /** What the busy bottleneck delivered over the window, bit/s: its capacity. */
  readonly deliveredBps: number;
  /** The latest packet's queueing delay, ms. */
  readonly queueMs: number;
}

export class QueueGrowth {
  private readonly arrivals: Arrival[] = [];

  /** One received packet, in arrival order: its arrival (receiver's clock), queueing delay and size. */
  add(arrivalMs: number, queueMs: number, bytes: number): void {
    const last = this.arrivals.at(-1);
    if (last && arrivalMs < last.arrivalMs - WINDOW_MS) this.reset();
    this.arrivals.push({ arrivalMs, queueMs, bytes });
    const newest = Math.max(arrivalMs, last?.arrivalMs ?? arrivalMs);
    while ((this.arrivals[0]?.arrivalMs ?? newest) < newest - WINDOW_MS) this.arrivals.shift();
  }

  /** Forget the window (the queue drained, or the receiver's clock jumped). */
  reset(): void {
    this.arrivals.length = 0;
  }

  /**
   * The reading of the window's latest busy run (below) when its queue grew
   * at MIN_GROWTH or more, to MIN_QUEUE_MS; else undefined.
   */
  get saturated(): QueueGrowthReading | undefined {
    const last = this.arrivals.at(-1);
    if (!last || last.queueMs < MIN_QUEUE_MS) return undefined;
    // The latest packets that came back to back through a busy bottleneck.
    // A packet queued behind the one before it came out one serialization
    // after it, and its queueing delay (above the path's least, so the
    // serialization it took beyond the fastest packet's is in it) is at
    // least that gap; one that found the link idle came later than its
    // delay says (the lab's tbf let the first packets after its cap through
    // at the old pace, then one came 68 ms after the one before with 33 ms
    // of queue). The run is taken over its latest MIN_SPAN_MS: the link
    // may have been busy at its old rate before. The rate runs from the
    // first packet's arrival: its bytes are not counted.
    let bytes = 0;
    let longestGapMs = 0;
    let first = this.arrivals.length - 1;
    for (;;) {
      const a = this.arrivals[first];
      const before = this.arrivals[first - 1];
      if (!a || !before || a.queueMs + BUSY_TOLERANCE_MS < a.arrivalMs - before.arrivalMs) break;
      longestGapMs = Math.max(longestGapMs, a.arrivalMs - before.arrivalMs);
      const enough =
        this.arrivals.length - first >= MIN_PACKETS && last.arrivalMs - a.arrivalMs >= MIN_SPAN_MS;
      if (enough) break;
      bytes += a.bytes;
      first--;
    }
    const start = this.arrivals[first];
    if (!start || this.arrivals.length - first < MIN_PACKETS) return undefined;
    const spanMs = last.arrivalMs - start.arrivalMs;
    if (spanMs < MIN_SPAN_MS) return undefined;
    if (last.queueMs - start.queueMs < MIN_GROWTH * spanMs) return undefined;
    // A link delivers steadily; a stall (nothing for a while, then a burst)
    // is a receiver or a radio holding packets, not a rate (a probe's
    // receiver at a call's start: 139 ms of nothing, then a probe
    // cluster's packets at once, read as 128 kbit/s).
    if (longestGapMs > MAX_GAP_SHARE * spanMs) return undefined;
    return { deliveredBps: (bytes * 8 * 1000) / spanMs, queueMs: last.queueMs };
  }
}
