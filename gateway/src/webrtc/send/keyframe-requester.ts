/**
 * Merges key frame requests from every viewer of a stream (new viewers,
 * PLI, FIR) into at most one encoder request per `minIntervalMs` (joins
 * excepted, see request()).
 *
 * An IDR costs 5-10x a P-frame; a burst of PLIs from several viewers (or a
 * browser repeating PLI while it waits) must not turn into a burst of IDRs.
 * 500 ms by default: a viewer that lost a key frame waits at most half a
 * second plus one frame more than with no limit, and the encoder makes at
 * most 2 extra IDRs a second.
 *
 * A request while an IDR is already on its way (asked for less than the
 * interval ago, none seen since) is merged into it: that IDR serves the new
 * asker too. A request after that IDR went out, inside the interval, is
 * deferred to the interval's end, so every asker gets an IDR sent after it
 * asked.
 */
export const DEFAULT_KEYFRAME_MIN_INTERVAL_MS = 500;

export class KeyFrameRequester {
  /** Requests received (from viewers), and requests passed to the source. */
  received = 0;
  sent = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private pending = false;
  private closed = false;

  constructor(
    private readonly send: () => void,
    readonly minIntervalMs = DEFAULT_KEYFRAME_MIN_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * `urgent` is for a viewer that just joined: it can show nothing until
   * its first IDR, so it skips the rate limit (joins are bounded by the
   * viewer limit); it still merges into an IDR already on its way.
   */
  request(urgent = false): void {
    if (this.closed) return;
    this.received++;
    const wait = this.lastSentAt + this.minIntervalMs - this.now();
    if (this.pending && wait > 0) return; // the IDR on its way serves this asker too
    if (urgent) {
      this.cancel(); // a deferred request is served by this one
      this.fire();
      return;
    }
    if (this.timer) return; // already deferred: merged into that one
    if (wait <= 0) {
      this.fire();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, wait);
  }

  /** The source produced an IDR: later requests need a new one. */
  keyFrameSeen(): void {
    this.pending = false;
  }

  /** Drops a deferred request (the source stopped; nobody is waiting). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    this.cancel();
  }

  private fire(): void {
    if (this.closed) return;
    this.lastSentAt = this.now();
    this.pending = true;
    this.sent++;
    this.send();
  }
}
