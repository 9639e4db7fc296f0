import type { BandwidthUsage } from "./trendline.js";

/**
 * The delay-based rate controller of draft-ietf-rmcat-gcc-02 section 5.5
 * (additive increase, multiplicative decrease), as libwebrtc's
 * AimdRateControl runs it on the sender:
 *
 * - overuse -> decrease to 0.85 x the acknowledged (received) rate, then
 *   hold until the queues have drained (the detector leaves "overusing");
 * - underuse -> hold (a queue is draining, the rate is fine);
 * - normal -> increase: multiplicatively (8 %/s) while the link capacity is
 *   unknown, additively (about one packet per response time, rtt + 100 ms)
 *   near a capacity seen at an earlier overuse;
 * - never above 1.5 x the acknowledged rate + 10 kbit/s: what was not sent
 *   was not measured.
 *
 * The link capacity is an exponential average (alpha 0.05) of the
 * acknowledged rate at each overuse, with its deviation; an acknowledged
 * rate outside estimate +- 3 deviations forgets it.
 */

export type RateControlState = "hold" | "increase" | "decrease";

const BETA = 0.85;
const DEFAULT_RTT_MS = 200;
const MULTIPLICATIVE_PER_SECOND = 1.08;
const MIN_INCREASE_BPS = 1000;
const MIN_NEAR_MAX_INCREASE_BPS_PER_S = 4000;
const PACKET_BYTES = 1200;
const FRAME_INTERVAL_S = 1 / 30;

class LinkCapacity {
  private estimateKbps: number | undefined;
  private deviation = 0.4;

  get known(): boolean {
    return this.estimateKbps !== undefined;
  }

  get estimateBps(): number | undefined {
    return this.estimateKbps === undefined ? undefined : this.estimateKbps * 1000;
  }

  upperBps(): number {
    return this.estimateKbps === undefined
      ? Infinity
      : (this.estimateKbps + 3 * this.deviationKbps()) * 1000;
  }

  lowerBps(): number {
    return this.estimateKbps === undefined
      ? 0
      : (this.estimateKbps - 3 * this.deviationKbps()) * 1000;
  }

  onOveruse(ackedBps: number): void {
    const sample = ackedBps / 1000;
    const alpha = 0.05;
    this.estimateKbps =
      this.estimateKbps === undefined ? sample : (1 - alpha) * this.estimateKbps + alpha * sample;
    const norm = Math.max(this.estimateKbps, 1);
    const error = this.estimateKbps - sample;
    this.deviation = (1 - alpha) * this.deviation + (alpha * error * error) / norm;
    this.deviation = Math.min(2.5, Math.max(0.4, this.deviation));
  }

  reset(): void {
    this.estimateKbps = undefined;
  }

  private deviationKbps(): number {
    return Math.sqrt(this.deviation * (this.estimateKbps ?? 0));
  }
}

export class AimdRateControl {
  private bitrateBps: number;
  private state: RateControlState = "hold";
  private lastChangeMs: number | undefined;
  private rttMs = DEFAULT_RTT_MS;
  private readonly link = new LinkCapacity();
  private latestAckedBps: number | undefined;

  constructor(
    startBps: number,
    private readonly minBps: number,
    private readonly maxBps: number,
  ) {
    this.bitrateBps = this.clamp(startBps);
  }

  get estimateBps(): number {
    return this.bitrateBps;
  }

  get rateControlState(): RateControlState {
    return this.state;
  }

  /** The link capacity seen at earlier overuses, if any. */
  get linkCapacityBps(): number | undefined {
    return this.link.estimateBps;
  }

  setRtt(rttMs: number): void {
    this.rttMs = rttMs;
  }

  /** Sets the estimate outright (a probe result). */
  setEstimate(bps: number, nowMs: number): void {
    this.bitrateBps = this.clamp(bps);
    this.lastChangeMs = nowMs;
  }

  /**
   * Whether a further decrease is due: one per RTT (10..200 ms), or at once
   * when the acknowledged rate is below half the estimate.
   */
  timeToReduceFurther(nowMs: number, ackedBps: number): boolean {
    const interval = Math.min(200, Math.max(10, this.rttMs));
    if (this.lastChangeMs === undefined || nowMs - this.lastChangeMs >= interval) return true;
    return ackedBps < 0.5 * this.bitrateBps;
  }

  update(usage: BandwidthUsage, ackedBps: number | undefined, nowMs: number): number {
    if (ackedBps !== undefined) this.latestAckedBps = ackedBps;
    const acked = ackedBps ?? this.latestAckedBps ?? this.bitrateBps;
    this.changeState(usage, nowMs);
    const throughputLimit = 1.5 * acked + 10_000;
    let next: number | undefined;
    switch (this.state) {
      case "hold":
        break;
      case "increase": {
        if (acked > this.link.upperBps()) this.link.reset();
        if (this.bitrateBps < throughputLimit) {
          const since = this.lastChangeMs === undefined ? 1000 : nowMs - this.lastChangeMs;
          const increased = this.link.known
            ? this.bitrateBps + this.nearMaxIncreaseBpsPerS() * (since / 1000)
            : this.bitrateBps +
              Math.max(
                this.bitrateBps * (MULTIPLICATIVE_PER_SECOND ** Math.min(since / 1000, 1) - 1),
                MIN_INCREASE_BPS,
              );
          next = Math.min(increased, throughputLimit);
        }
        this.lastChangeMs = nowMs;
        break;
      }
      case "decrease": {
        let decreased = acked * BETA;
        if (decreased > this.bitrateBps && this.link.estimateBps !== undefined) {
          decreased = BETA * this.link.estimateBps;
        }
        if (decreased < this.bitrateBps) next = decreased;
        if (acked < this.link.lowerBps()) this.link.reset();
        this.link.onOveruse(acked);
        // Stay on hold until the queues have drained.
        this.state = "hold";
        this.lastChangeMs = nowMs;
        break;
      }
    }
    this.bitrateBps = this.clamp(next ?? this.bitrateBps);
    return this.bitrateBps;
  }

  private changeState(usage: BandwidthUsage, nowMs: number): void {
    if (usage === "normal") {
      if (this.state === "hold") {
        this.lastChangeMs = nowMs;
        this.state = "increase";
      }
    } else if (usage === "overusing") {
      this.state = "decrease";
    } else {
      this.state = "hold";
    }
  }

  /** About one average packet per response time (rtt + 100 ms, doubled as libwebrtc does). */
  private nearMaxIncreaseBpsPerS(): number {
    const frameBytes = (this.bitrateBps / 8) * FRAME_INTERVAL_S;
    const packetsPerFrame = Math.max(1, Math.ceil(frameBytes / PACKET_BYTES));
    const avgPacketBits = (frameBytes / packetsPerFrame) * 8;
    const responseTimeS = (2 * (this.rttMs + 100)) / 1000;
    return Math.max(MIN_NEAR_MAX_INCREASE_BPS_PER_S, avgPacketBits / responseTimeS);
  }

  private clamp(bps: number): number {
    return Math.min(this.maxBps, Math.max(this.minBps, bps));
  }
}
