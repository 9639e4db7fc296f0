import type { BandwidthEstimate } from "../../congestion/bandwidth-estimator.js";

/**
 * The encoder's bitrate for a stream every viewer shares: one encoder, many
 * estimates, so the stream follows the LOWEST viewer estimate (as
 * pi-webrtc follows libwebrtc's one estimate), within min..max. Down at
 * once, so a queue that is building stops growing within one feedback
 * interval; up only after the estimates have allowed it for `raiseAfterMs`,
 * and by at most `maxRaise` of the current rate per step, so a probe's
 * optimism or one viewer's noise does not make the encoder oscillate
 * (hysteresis, docs/congestion.md "The encoder follows").
 */

export interface BitratePolicyOptions {
  /** Floor, kbit/s: the Pi's encoder misbehaves below ~100 kbit/s. */
  minKbps: number;
  /** Ceiling, kbit/s: the configured bitrate; also the rate with no viewer. */
  maxKbps: number;
  /**
   * Share of the lowest estimate the encoder may fill; the rest is room for
   * RTP/SRTP overhead, NACK repair (at most 25 % of the estimate, repair
   * policy) and probes (default 0.85).
   */
  share?: number;
  /** Time since the last change before the rate may go up (default 1000 ms). */
  raiseAfterMs?: number;
  /** Largest step up, as a fraction of the current rate (default 0.5). */
  maxRaise?: number;
}

/** Changes smaller than this fraction are not worth an encoder control call. */
const DEAD_BAND = 0.05;

export class BitratePolicy {
  private current: number;
  /** What the last update() wanted, kbit/s. */
  private wanted: number;
  private lastChangeMs = Number.NEGATIVE_INFINITY;
  private readonly share: number;
  private readonly raiseAfterMs: number;
  private readonly maxRaise: number;

  constructor(
    private readonly options: BitratePolicyOptions,
    private readonly apply: (kbps: number) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    if (!(options.minKbps > 0) || options.minKbps > options.maxKbps) {
      throw new RangeError(
        `bitrate policy: min ${options.minKbps} kbit/s must be above 0 and at most max ${options.maxKbps}`,
      );
    }
    this.share = options.share ?? 0.85;
    this.raiseAfterMs = options.raiseAfterMs ?? 1000;
    this.maxRaise = options.maxRaise ?? 0.5;
    this.current = options.maxKbps;
    this.wanted = options.maxKbps;
  }

  /** The rate last asked of the encoder, kbit/s. */
  get targetKbps(): number {
    return this.current;
  }

  /**
   * When the last update() wanted more than it gave (a raise held back by
   * `raiseAfterMs` or `maxRaise`), the time (the policy's clock, ms) at which
   * updating again may raise; otherwise undefined. The caller must update
   * then: a viewer's estimate that stops changing (a probe lifted it to its
   * ceiling) brings no further update, and the encoder stayed at the first
   * step up for good (the network lab: 444 kbit/s with a 19.5 Mbit/s
   * estimate after a 300 kbit/s cap lifted).
   */
  get raiseDueAtMs(): number | undefined {
    if (!(this.wanted > this.current * (1 + DEAD_BAND))) return undefined;
    return this.lastChangeMs + this.raiseAfterMs;
  }

  /**
   * Re-decides from the viewers' current estimates (call on each new
   * estimate and when a viewer leaves); returns the rate in force.
   */
  update(estimates: Iterable<Pick<BandwidthEstimate, "targetBps">>): number {
    const { minKbps, maxKbps } = this.options;
    let lowestBps = Number.POSITIVE_INFINITY;
    for (const e of estimates) lowestBps = Math.min(lowestBps, e.targetBps);
    // No viewer with an estimate: back to the configured rate, for the next
    // viewer's first seconds (its estimator starts there too).
    const wanted =
      lowestBps === Number.POSITIVE_INFINITY
        ? maxKbps
        : Math.min(maxKbps, Math.max(minKbps, Math.round((lowestBps * this.share) / 1000)));
    this.wanted = wanted;
    const now = this.nowMs();
    if (wanted < this.current * (1 - DEAD_BAND)) {
      this.change(wanted, now);
    } else if (
      wanted > this.current * (1 + DEAD_BAND) &&
      (lowestBps === Number.POSITIVE_INFINITY || now - this.lastChangeMs >= this.raiseAfterMs)
    ) {
      const step =
        lowestBps === Number.POSITIVE_INFINITY
          ? wanted
          : Math.min(wanted, Math.round(this.current * (1 + this.maxRaise)));
      this.change(step, now);
    }
    return this.current;
  }

  private change(kbps: number, now: number): void {
    if (kbps === this.current) return;
    this.current = kbps;
    this.lastChangeMs = now;
    this.apply(kbps);
  }
}
