import { EventEmitter } from "node:events";
import { AckedBitrate } from "./acked-bitrate.js";
import { AimdRateControl, type RateControlState } from "./aimd-rate-control.js";
import { DeliveryRate } from "./delivery-rate.js";
import { InterArrival } from "./inter-arrival.js";
import { LossBasedControl } from "./loss-based.js";
import { ProbeController } from "./probe-controller.js";
import { ProbeEstimator, type ProbeCluster } from "./probe-estimator.js";
import { QueueDelay } from "./queue-delay.js";
import { QueueGrowth } from "./queue-growth.js";
import { RateWindow } from "./rate-window.js";
import { SentPackets, type PacketResult, type SentKind } from "./sent-packets.js";
import { parseTransportFeedback, type TransportFeedback } from "./transport-feedback.js";
import { TrendlineDetector, type BandwidthUsage } from "./trendline.js";

/**
 * One viewer's sender-side bandwidth estimate (draft-ietf-rmcat-gcc-02,
 * shaped like libwebrtc's goog_cc): what the path to this viewer carries,
 * from transport-cc feedback, RTCP receiver reports and REMB.
 *
 *     transport-cc feedback ──▶ sent packets ──▶ inter-arrival ──▶ trendline ──▶ AIMD ─┐
 *                                    │                                               ├─ min ─▶ target
 *                                    ├──▶ acked bitrate, probe results, loss ──▶ loss-based ─┘
 *     receiver reports (loss, RTT) ──┘        REMB (a cap; the estimate when there is no transport-cc)
 *
 * The target is what an encoder policy should aim at and what the pacer
 * paces at (times its factor); the other fields are the inputs, for the
 * policy to judge by and for /metrics. The `estimate` event fires when any
 * of it changes; `probe` asks the sender to send a probe cluster.
 */

export type EstimateSource = "transport-cc" | "remb" | "none";

export interface BandwidthEstimate {
  /** What to send at, bit/s: the lowest of the estimates below, within min..max. */
  readonly targetBps: number;
  /** The delay-based (trendline + AIMD) estimate, bit/s. */
  readonly delayBasedBps: number;
  /** The loss-based estimate, bit/s. */
  readonly lossBasedBps: number;
  /** The viewer's REMB, bit/s, if it sends any. */
  readonly rembBps: number | undefined;
  /** How fast packets reached the viewer lately, bit/s (transport-cc). */
  readonly ackedBps: number | undefined;
  /** The last probe result, bit/s. */
  readonly probeBps: number | undefined;
  /** Round-trip time, ms (RTCP receiver reports; transport-cc feedback as a fallback). */
  readonly rttMs: number | undefined;
  /** Latest loss ratio 0..1. */
  readonly lossRatio: number;
  /** The delay detector's reading. */
  readonly usage: BandwidthUsage;
  readonly rateControl: RateControlState;
  /** A probe cluster is out and its result not yet in. */
  readonly probing: boolean;
  /** Sending well below the target (a camera usually is): increases are capped by what was sent. */
  readonly applicationLimited: boolean;
  /**
   * The target is held at half of what the saturated link delivered, so
   * that its queue drains; a key frame sent now would meet that queue
   * (see SATURATED_LOSS).
   */
  readonly draining: boolean;
  /** How long the latest packet waited in the path's queues, ms (transport-cc). */
  readonly queueDelayMs: number | undefined;
  /** Which feedback drives the estimate. */
  readonly source: EstimateSource;
  /** When this estimate was made, ms (the estimator's clock). */
  readonly atMs: number;
}

export interface BandwidthEstimatorEvents {
  estimate: [BandwidthEstimate];
  probe: [ProbeCluster];
}

export interface BandwidthEstimatorOptions {
  /** Where to start, bit/s (default 1 Mbit/s). */
  startBps?: number;
  /** The estimate never goes below / above these (defaults 100 kbit/s, 20 Mbit/s). */
  minBps?: number;
  maxBps?: number;
  /** Send probe clusters (the sender can pad: RTX was negotiated). Default false. */
  probing?: boolean;
  /** Clock, ms (default performance.now). */
  now?: () => number;
}

export const DEFAULT_START_BPS = 1_000_000;
export const DEFAULT_MIN_BPS = 100_000;
export const DEFAULT_MAX_BPS = 20_000_000;

/** Loss reports and REMB newer than this count; older ones are forgotten. */
const REMB_TIMEOUT_MS = 5000;
/** The first seconds without loss follow the delay-based estimate up (libwebrtc's start phase). */
const START_PHASE_MS = 2000;
/**
 * Loss above this with overuse: the bottleneck's queue is full and drops,
 * so what arrives now is its capacity (delivery-rate.ts), not the smoothed
 * acknowledged rate of the last seconds.
 */
const SATURATED_LOSS = 0.1;
/**
 * After a cut to a saturated link's rate, the target stays at this share
 * of it until the latest packets show the queue empty again (or every
 * packet sent has been reported), or for DRAIN_TIME_FACTOR x the largest
 * queueing delay seen since the cut (+ 50 ms, at most MAX_DRAIN_HOLD_MS),
 * so the bottleneck's queue, full of what was sent at the old rate, drains
 * instead of taking the seconds it takes at 0.85 (the lab's 400 ms tbf
 * queue: ~1.4 s with the encoder at 0.85 x 0.85 of the link). A key frame
 * that goes in before that is dropped with the rest: the viewer's sender
 * holds key frame requests meanwhile, and skips the frames in between
 * (send/key-frame-hold.ts), so the queue drains at the link's full rate: a
 * little over the queueing delay. (At half the rate it would take twice
 * that.)
 */
const DRAIN_SHARE = 0.5;
const DRAIN_TIME_FACTOR = 1.25;
/** Queues shorter than this need no drain; one that fell under half of it has drained. */
const MIN_DRAIN_QUEUE_MS = 100;
/** A delivered rate under this share of the estimate is a cut worth making at once. */
const BETA_SATURATED = 0.85;
/**
 * A queue growing at twice the link's rate (queue-growth.ts) says the link
 * is saturated before any loss is reported; acted on only when what it
 * delivers is under this share of the estimate: a link that fell far below
 * the stream, not a key frame's burst (paced at 2.5 x the estimate, it
 * never comes out at under 0.4 x it).
 */
const FAR_BELOW = 0.4;
const MAX_DRAIN_HOLD_MS = 1500;
const ALR_START = 0.65;
const ALR_END = 0.8;

/** A drain under way: since when, at what target, and the largest queue reported since (when). */
interface Drain {
  readonly startMs: number;
  readonly bps: number;
  maxQueueMs: number;
  maxQueueAtMs: number;
}

export class BandwidthEstimator extends EventEmitter<BandwidthEstimatorEvents> {
  readonly minBps: number;
  readonly maxBps: number;
  private readonly now: () => number;
  private readonly sent = new SentPackets();
  private readonly interArrival = new InterArrival();
  private readonly trendline = new TrendlineDetector();
  private readonly aimd: AimdRateControl;
  private readonly acked = new AckedBitrate();
  private readonly delivery = new DeliveryRate();
  private readonly queue = new QueueDelay();
  private readonly growth = new QueueGrowth();
  private drain: Drain | undefined;
  /**
   * Loss of packets sent before this is not the loss-based control's: it
   * is the overflow of a saturated queue, which the cut and the drain have
   * answered (at start, none).
   */
  private lossFromMs = Number.NEGATIVE_INFINITY;
  private readonly loss: LossBasedControl;
  private readonly probes: ProbeController;
  private readonly probeEstimator: ProbeEstimator;
  private probingEnabled: boolean;
  private readonly sentRate = new RateWindow(500);
  private rtt: { ms: number; fromRtcp: boolean } | undefined;
  private remb: { bps: number; atMs: number } | undefined;
  private lastProbeBps: number | undefined;
  private firstFeedbackAtMs: number | undefined;
  private alr = false;
  private source: EstimateSource = "none";
  private current: BandwidthEstimate;
  private closed = false;

  constructor(options: BandwidthEstimatorOptions = {}) {
    super();
    this.minBps = options.minBps ?? DEFAULT_MIN_BPS;
    this.maxBps = Math.max(this.minBps, options.maxBps ?? DEFAULT_MAX_BPS);
    const start = Math.min(
      this.maxBps,
      Math.max(this.minBps, options.startBps ?? DEFAULT_START_BPS),
    );
    this.now = options.now ?? (() => performance.now());
    this.aimd = new AimdRateControl(start, this.minBps, this.maxBps);
    this.loss = new LossBasedControl(start, this.minBps, this.maxBps);
    this.probes = new ProbeController({ startBps: start, maxBps: this.maxBps });
    this.probeEstimator = new ProbeEstimator((id) => this.probes.cluster(id));
    this.probingEnabled = options.probing ?? false;
    this.current = this.snapshot(start, this.now());
  }

  get estimate(): BandwidthEstimate {
    return this.current;
  }

  /** A packet left with transport-wide sequence number `sequence` (16 bits). */
  onPacketSent(sequence: number, size: number, kind: SentKind, probeClusterId?: number): void {
    const nowMs = this.now();
    this.sent.add(sequence, size, nowMs, kind, probeClusterId);
    if (kind !== "padding") this.sentRate.add(size, nowMs);
  }

  /** Whether the sender can send probe clusters (it can pad: RTX was negotiated). */
  setProbing(enabled: boolean): void {
    this.probingEnabled = enabled;
  }

  /** Starts probing if enabled (call once media flows). */
  start(): void {
    this.maybeProbe(this.now());
  }

  /** A transport-cc feedback message, as bytes (RTCP header included) or parsed. */
  onTransportFeedback(feedback: Buffer | TransportFeedback): void {
    if (this.closed) return;
    const nowMs = this.now();
    const parsed = Buffer.isBuffer(feedback) ? parseTransportFeedback(feedback) : feedback;
    const results = this.sent.onFeedback(parsed, nowMs);
    this.source = "transport-cc";
    this.firstFeedbackAtMs ??= nowMs;
    if (results.feedbackRttMs !== undefined && !this.rtt?.fromRtcp) {
      this.rtt = { ms: results.feedbackRttMs, fromRtcp: false };
      this.aimd.setRtt(results.feedbackRttMs);
    }
    const received = results.packets
      .filter((p) => p.arrivalMs !== undefined)
      .sort((a, b) => (a.arrivalMs ?? 0) - (b.arrivalMs ?? 0));
    let probeBps: number | undefined;
    let probeCluster: number | undefined;
    for (const result of received) {
      const arrivalMs = result.arrivalMs ?? 0;
      this.acked.add(arrivalMs, result.sent.size);
      this.delivery.add(arrivalMs, result.sent.size);
      const queueMs = this.queue.add(result.sent.sendTimeMs, arrivalMs);
      this.growth.add(arrivalMs, queueMs, result.sent.size);
      const measured = this.probeEstimator.add(result, nowMs);
      if (measured !== undefined) {
        probeBps = measured;
        probeCluster = result.sent.probeClusterId;
      }
      const delta = this.interArrival.add(result.sent.sendTimeMs, arrivalMs, nowMs);
      if (delta) this.trendline.update(delta.arrivalDeltaMs, delta.sendDeltaMs, delta.arrivalMs);
    }
    this.countLoss(results.packets, nowMs);
    this.updateAlr(nowMs);
    if (!this.drain) this.cutIfQueueGrowing(nowMs);
    else if ((this.queue.ms ?? 0) > this.drain.maxQueueMs) {
      this.drain.maxQueueMs = this.queue.ms ?? 0;
      this.drain.maxQueueAtMs = nowMs;
    }
    this.updateDelayBased(nowMs, probeBps);
    if (probeBps !== undefined && probeCluster !== undefined) {
      this.lastProbeBps = probeBps;
      for (const next of this.probes.onResult(probeCluster, probeBps, nowMs))
        this.emit("probe", next);
    }
    this.finish(nowMs);
  }

  /** An RTCP receiver report block for our stream: fraction lost 0..1, and RTT if it could be computed. */
  onReceiverReport(fractionLost: number, rttMs: number | undefined): void {
    if (this.closed) return;
    const nowMs = this.now();
    this.firstFeedbackAtMs ??= nowMs;
    if (rttMs !== undefined && rttMs >= 0) {
      this.rtt = { ms: rttMs, fromRtcp: true };
      this.aimd.setRtt(rttMs);
    }
    // With transport-cc, loss comes from its feedback (finer, and in time).
    if (this.source !== "transport-cc") this.loss.setLoss(fractionLost);
    this.finish(nowMs);
  }

  /** A REMB (receiver estimated maximum bitrate) from the viewer. */
  onRemb(bps: number): void {
    if (this.closed) return;
    const nowMs = this.now();
    this.remb = { bps, atMs: nowMs };
    this.firstFeedbackAtMs ??= nowMs;
    if (this.source === "none") this.source = "remb";
    this.finish(nowMs);
  }

  /** Periodic work (probing on the way back up); call every ~100 ms or so. */
  process(): void {
    if (this.closed) return;
    const nowMs = this.now();
    if (this.drain && this.drainOver(this.drain, nowMs)) this.finish(nowMs);
    this.maybeProbe(nowMs);
  }

  close(): void {
    this.closed = true;
    this.removeAllListeners();
  }

  private updateAlr(nowMs: number): void {
    const ratio = this.sentRate.rateBps(nowMs) / this.current.targetBps;
    if (!this.alr && ratio < ALR_START) this.alr = true;
    else if (this.alr && ratio > ALR_END) {
      this.alr = false;
      this.acked.expectFastChange();
    }
  }

  /**
   * Loss for the loss-based control, of the packets sent since `lossFromMs`
   * (none while a drain lasts).
   */
  private countLoss(packets: readonly PacketResult[], nowMs: number): void {
    if (this.drain) return;
    let lost = 0;
    let expected = 0;
    for (const p of packets) {
      if (p.sent.sendTimeMs < this.lossFromMs) continue;
      expected++;
      if (p.arrivalMs === undefined) lost++;
    }
    if (expected > 0) this.loss.addPackets(lost, expected, nowMs);
  }

  /**
   * The first sign of a link that dropped far below the stream: the
   * bottleneck's queue growing at twice its rate (queue-growth.ts), ~0.4 s
   * before the trendline's overuse and the loss. Cut to what it delivers
   * and drain, as for a saturated overuse below.
   */
  private cutIfQueueGrowing(nowMs: number): void {
    const grown = this.growth.saturated;
    if (!grown || grown.deliveredBps >= FAR_BELOW * this.aimd.estimateBps) return;
    this.aimd.update("overusing", grown.deliveredBps, nowMs);
    this.startDrain(nowMs, grown.deliveredBps, grown.queueMs);
  }

  private startDrain(nowMs: number, linkBps: number, queueMs: number): void {
    this.drain = {
      startMs: nowMs,
      bps: DRAIN_SHARE * linkBps,
      maxQueueMs: queueMs,
      maxQueueAtMs: nowMs,
    };
    // The overflow's loss is answered by this cut; what the loss-based
    // control judges from here is what is sent after the drain.
    this.lossFromMs = Number.POSITIVE_INFINITY;
  }

  private updateDelayBased(nowMs: number, probeBps: number | undefined): void {
    const usage = this.trendline.usage;
    const smoothedBps = this.acked.bps;
    // A drain is the answer to the overuse it follows: cutting again while
    // it lasts would measure the queue emptying, not the link, and raising
    // would go by the acknowledged rate of before the cut.
    if (this.drain) return;
    if (usage === "overusing") {
      // A saturated link (overuse and heavy loss) delivers its capacity:
      // cut to that at once rather than to the smoothed rate of a faster past.
      const deliveredBps = this.delivery.bps;
      // Both now: heavy loss and a full queue (after a drain the loss ratio
      // is still the overflow's while what arrives is only what was sent).
      const queueMs = this.queue.ms ?? 0;
      const saturated =
        this.loss.recentLossRatio > SATURATED_LOSS &&
        queueMs >= MIN_DRAIN_QUEUE_MS &&
        deliveredBps !== undefined;
      const ackedBps = saturated ? Math.min(smoothedBps ?? Infinity, deliveredBps) : smoothedBps;
      // Loss is news the overuse before it did not bring: the cut to the
      // saturated link's rate does not wait the RTT a repeated overuse does.
      const newlySaturated = saturated && deliveredBps < BETA_SATURATED * this.aimd.estimateBps;
      if (
        ackedBps !== undefined &&
        (newlySaturated || this.aimd.timeToReduceFurther(nowMs, ackedBps))
      ) {
        this.aimd.update(usage, ackedBps, nowMs);
        if (saturated) this.startDrain(nowMs, ackedBps, queueMs);
      } else if (
        ackedBps === undefined &&
        this.aimd.timeToReduceFurther(nowMs, this.aimd.estimateBps / 2 - 1)
      ) {
        // Overuse before any throughput was measured: halve, at most every RTT.
        this.aimd.setEstimate(this.aimd.estimateBps / 2, nowMs);
      }
      return;
    }
    if (probeBps !== undefined && probeBps > this.aimd.estimateBps) {
      this.aimd.setEstimate(probeBps, nowMs);
      this.loss.setEstimate(Math.max(probeBps, this.loss.estimateBps), nowMs);
      return;
    }
    this.aimd.update(usage, smoothedBps, nowMs);
  }

  /**
   * The latest packets waited less than half of MIN_DRAIN_QUEUE_MS, or
   * what was sent after the newest packet reported has had the time to
   * cross the link (the frames skipped meanwhile leave few packets to
   * measure with, and the last ones before the skip were likely dropped):
   * the queue has emptied. Or the drain has lasted its time.
   */
  private drainOver(drain: Drain, nowMs: number): boolean {
    const queueMs = this.queue.ms;
    const untilMs = Math.min(
      drain.startMs + MAX_DRAIN_HOLD_MS,
      drain.maxQueueAtMs + DRAIN_TIME_FACTOR * drain.maxQueueMs + 50,
    );
    const emptyByMs = this.sent.emptyByMs(drain.bps / DRAIN_SHARE) ?? Infinity;
    return (
      nowMs >= untilMs ||
      (queueMs !== undefined && queueMs < MIN_DRAIN_QUEUE_MS / 2) ||
      nowMs >= emptyByMs
    );
  }

  private maybeProbe(nowMs: number): void {
    if (!this.probingEnabled) return;
    for (const cluster of this.probes.process(
      nowMs,
      this.current.targetBps,
      this.trendline.usage,
    )) {
      this.emit("probe", cluster);
    }
  }

  /** Combines the estimates into the target and emits it when something changed. */
  private finish(nowMs: number): void {
    const remb = this.remb && nowMs - this.remb.atMs < REMB_TIMEOUT_MS ? this.remb.bps : undefined;
    const delayBased = this.source === "remb" && remb !== undefined ? remb : this.aimd.estimateBps;
    const upper = Math.min(delayBased, remb ?? Infinity);
    const inStartPhase =
      this.firstFeedbackAtMs !== undefined &&
      nowMs - this.firstFeedbackAtMs < START_PHASE_MS &&
      this.loss.lossRatio === 0;
    if (inStartPhase && upper > this.loss.estimateBps) this.loss.setEstimate(upper, nowMs);
    const lossBased = this.loss.update(nowMs, this.rtt?.ms ?? 0, upper);
    if (this.drain && this.drainOver(this.drain, nowMs)) {
      this.drain = undefined;
      this.growth.reset();
      this.lossFromMs = nowMs;
    }
    const drainBps = this.drain?.bps ?? Infinity;
    const target = Math.min(
      this.maxBps,
      Math.max(this.minBps, Math.min(lossBased, upper, drainBps)),
    );
    const next = this.snapshot(target, nowMs, delayBased, lossBased, remb);
    const prev = this.current;
    this.current = next;
    if (
      prev.targetBps !== next.targetBps ||
      prev.usage !== next.usage ||
      prev.rateControl !== next.rateControl ||
      prev.source !== next.source ||
      prev.lossRatio !== next.lossRatio ||
      prev.applicationLimited !== next.applicationLimited ||
      prev.draining !== next.draining
    ) {
      this.emit("estimate", next);
    }
  }

  private snapshot(
    targetBps: number,
    atMs: number,
    delayBasedBps = targetBps,
    lossBasedBps = targetBps,
    rembBps?: number,
  ): BandwidthEstimate {
    return {
      targetBps: Math.round(targetBps),
      delayBasedBps: Math.round(delayBasedBps),
      lossBasedBps: Math.round(lossBasedBps),
      rembBps,
      ackedBps: this.acked.bps === undefined ? undefined : Math.round(this.acked.bps),
      probeBps: this.lastProbeBps === undefined ? undefined : Math.round(this.lastProbeBps),
      rttMs: this.rtt?.ms,
      lossRatio: this.loss.lossRatio,
      usage: this.trendline.usage,
      rateControl: this.aimd.rateControlState,
      probing: this.probingEnabled && this.probes.probing,
      applicationLimited: this.alr,
      draining: this.drain !== undefined,
      queueDelayMs: this.queue.ms,
      source: this.source,
      atMs,
    };
  }
}
