import { RateWindow } from "../../congestion/rate-window.js";

/**
 * Whether a NACKed packet (RFC 4585 section 6.2.1) is worth resending to
 * one viewer, so that repair never makes congestion worse (the issue's
 * unbounded NACK answers kept a full queue full):
 *
 * - only packets this viewer was sent, and not dropped on the way out;
 * - nothing from before the latest key frame the viewer was sent: the key
 *   frame restarts its decoder, older frames are of no use any more;
 * - nothing first sent longer than `maxAgeMs` ago (1 s): too late to show,
 *   and the viewer will have asked for a key frame;
 * - each packet at most once per RTT (a repeated NACK inside an RTT asks
 *   for a resend that is still on its way) and `maxResends` (3) times;
 * - all resends within `budgetShare` (25 %) of the estimated bandwidth over
 *   a second (libwebrtc and pion budget retransmissions likewise), with
 *   room for at least a few packets however low the estimate.
 *
 * A NACK the budget cannot cover (the link is saturated) is better served
 * by a key frame than by a frame's worth of holes arriving late: the caller
 * asks for one when `decide` says "over-budget".
 */

export type RepairDecision =
  "resend" | "not-sent" | "superseded" | "too-old" | "too-soon" | "too-often" | "over-budget";

export interface RepairPolicyOptions {
  maxResends?: number;
  maxAgeMs?: number;
  budgetShare?: number;
  /** The smallest budget, bytes a second, whatever the estimate (default 4 packets). */
  minBudgetBytesPerS?: number;
  /**
   * The shortest time between two resends of a packet whatever the RTT says
   * (default 10 ms: on a LAN the RTT is below a millisecond, and a NACK
   * repeated that fast is a duplicate, not a second loss).
   */
  minResendIntervalMs?: number;
}

interface SentRecord {
  readonly sequence: number;
  readonly sentAtMs: number;
  /** Key frames started before this packet was sent (to this viewer). */
  readonly keyFrameEpoch: number;
  resends: number;
  lastResentAtMs: number;
}

/** Packets remembered: as many as the stream's history holds (rtp/packet-history.ts). */
const SLOTS = 2048;
const DEFAULT_RTT_MS = 100;
const WINDOW_MS = 1000;

export class RepairPolicy {
  readonly decisions: Record<RepairDecision, number> = {
    resend: 0,
    "not-sent": 0,
    superseded: 0,
    "too-old": 0,
    "too-soon": 0,
    "too-often": 0,
    "over-budget": 0,
  };
  private readonly maxResends: number;
  private readonly maxAgeMs: number;
  private readonly budgetShare: number;
  private readonly minBudgetBytesPerS: number;
  private readonly minResendIntervalMs: number;
  private readonly slots: (SentRecord | undefined)[] = new Array<SentRecord | undefined>(
    SLOTS,
  ).fill(undefined);
  private readonly resent = new RateWindow(WINDOW_MS);
  private keyFrameEpoch = 0;

  constructor(options: RepairPolicyOptions = {}) {
    this.maxResends = options.maxResends ?? 3;
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.budgetShare = options.budgetShare ?? 0.25;
    this.minBudgetBytesPerS = options.minBudgetBytesPerS ?? 4 * 1200;
    this.minResendIntervalMs = options.minResendIntervalMs ?? 10;
  }

  /** A key frame is about to be sent: packets before it no longer need repair. */
  keyFrameStarted(): void {
    this.keyFrameEpoch++;
  }

  /** A media packet (RTP sequence number) went to the viewer. */
  sent(sequence: number, nowMs: number): void {
    this.slots[sequence % SLOTS] = {
      sequence,
      sentAtMs: nowMs,
      keyFrameEpoch: this.keyFrameEpoch,
      resends: 0,
      lastResentAtMs: Number.NEGATIVE_INFINITY,
    };
  }

  /** The budget, bytes over the last second, at this estimate. */
  budgetBytes(targetBps: number): number {
    return Math.max(this.minBudgetBytesPerS, (targetBps / 8) * this.budgetShare);
  }

  /**
   * A second copy of a packet just resent, if the budget has room for it
   * (counted against it as a resend); false otherwise.
   */
  chargeCopy(size: number, nowMs: number, targetBps: number): boolean {
    const spent = (this.resent.rateBps(nowMs) / 8) * (WINDOW_MS / 1000);
    if (spent + size > this.budgetBytes(targetBps)) return false;
    this.resent.add(size, nowMs);
    return true;
  }

  /** Decides on one NACKed packet of `size` bytes; a "resend" is counted against the limits. */
  decide(
    sequence: number,
    size: number,
    nowMs: number,
    rttMs: number | undefined,
    targetBps: number,
  ): RepairDecision {
    const decision = this.judge(sequence, size, nowMs, rttMs, targetBps);
    this.decisions[decision]++;
    if (decision === "resend") {
      const record = this.slots[sequence % SLOTS];
      if (record) {
        record.resends++;
        record.lastResentAtMs = nowMs;
      }
      this.resent.add(size, nowMs);
    }
    return decision;
  }

  private judge(
    sequence: number,
    size: number,
    nowMs: number,
    rttMs: number | undefined,
    targetBps: number,
  ): RepairDecision {
    const record = this.slots[sequence % SLOTS];
    if (!record || record.sequence !== sequence) return "not-sent";
    if (record.keyFrameEpoch < this.keyFrameEpoch) return "superseded";
    if (nowMs - record.sentAtMs > this.maxAgeMs) return "too-old";
    const interval = Math.max(this.minResendIntervalMs, rttMs ?? DEFAULT_RTT_MS);
    if (nowMs - record.lastResentAtMs < interval) return "too-soon";
    if (record.resends >= this.maxResends) return "too-often";
    const spent = (this.resent.rateBps(nowMs) / 8) * (WINDOW_MS / 1000);
    if (spent + size > this.budgetBytes(targetBps)) return "over-budget";
    return "resend";
  }
}
