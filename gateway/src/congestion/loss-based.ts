/**
 * The loss-based controller of draft-ietf-rmcat-gcc-02 section 6 (as
 * libwebrtc's SendSideBandwidthEstimation runs it):
 *
 * - loss under 2 %: increase to 1.08 x the lowest estimate of the last
 *   second, + 1 kbit/s (so a steady rate can rise as soon as a clean
 *   report comes, rather than a second later);
 * - 2..10 %: hold (random loss of a Wi-Fi or mobile link is not a reason to
 *   starve the picture);
 * - over 10 %: decrease to rate x (1 - loss / 2), at most once per 300 ms +
 *   RTT and once per loss report.
 *
 * Loss comes from transport-cc feedback, judged over a second of it (and
 * at least 20 packets), as libwebrtc's GoogCcNetworkController does
 * (kLossUpdateInterval, "from RTCPSender video report interval"), or,
 * without it, from RTCP receiver reports' fraction lost. Judged every 20
 * packets (~80 ms at 2.5 Mbit/s), 5 % random loss read over 10 % in one
 * window in 13 and bursts of 4 in most: the lab's loss runs cut the rate
 * again and again on loss that was no congestion. `recentLossRatio` is
 * the latest 20 packets' (the estimator's saturation test wants it now). The
 * delay-based estimate caps this one (the sender's target is the lower).
 */

const LOW_LOSS = 0.02;
const HIGH_LOSS = 0.1;
const INCREASE_INTERVAL_MS = 1000;
const DECREASE_INTERVAL_MS = 300;
/** Loss is judged over at least this many packets... */
const MIN_PACKETS = 20;
/** ...and at least this long of transport-cc feedback. */
const LOSS_UPDATE_INTERVAL_MS = 1000;

export class LossBasedControl {
  private bitrateBps: number;
  private readonly history: { atMs: number; bps: number }[] = [];
  private lastDecreaseMs = Number.NEGATIVE_INFINITY;
  private decreasedSinceReport = false;
  private lostSince = 0;
  private expectedSince = 0;
  private judgedSinceMs: number | undefined;
  private recentLost = 0;
  private recentExpected = 0;
  private _lossRatio = 0;
  /** The loss the controller acts on. */
  private judgedLoss = 0;
  private haveReport = false;

  constructor(
    startBps: number,
    private readonly minBps: number,
    private readonly maxBps: number,
  ) {
    this.bitrateBps = startBps;
  }

  get estimateBps(): number {
    return this.bitrateBps;
  }

  /** The loss ratio acted on: over the last second of feedback, or the last receiver report (0..1). */
  get lossRatio(): number {
    return this.judgedLoss;
  }

  /** The latest loss ratio seen, over the last 20 or more packets (0..1): what is happening now. */
  get recentLossRatio(): number {
    return this._lossRatio;
  }

  /**
   * Sets the estimate outright: a probe measured the link, or the first
   * seconds of a call without loss follow the delay-based estimate up
   * (libwebrtc's start phase), rather than climbing 8 % a second to it.
   * Not upwards while the last second judged lost over 10 %: a probe
   * measures the path's rate, not its loss, and probes every few seconds
   * would undo each cut (15 % loss kept 4-5 Mbit/s of a 10 Mbit/s link).
   */
  setEstimate(bps: number, nowMs: number): void {
    if (this.haveReport && this.judgedLoss > HIGH_LOSS && bps > this.bitrateBps) return;
    this.bitrateBps = Math.min(this.maxBps, Math.max(this.minBps, bps));
    this.history.length = 0;
    this.pushHistory(nowMs);
  }

  /** Whether any loss figure came in yet. */
  get hasReport(): boolean {
    return this.haveReport;
  }

  /**
   * Counts packets from transport-cc feedback that came at `nowMs`; judges
   * once a second's worth has been reported (the first time at once).
   */
  addPackets(lost: number, expected: number, nowMs: number): boolean {
    this.recentLost += lost;
    this.recentExpected += expected;
    if (this.recentExpected >= MIN_PACKETS) {
      this._lossRatio = this.recentLost / this.recentExpected;
      this.recentLost = 0;
      this.recentExpected = 0;
    }
    this.lostSince += lost;
    this.expectedSince += expected;
    if (this.expectedSince < MIN_PACKETS) return false;
    if (this.judgedSinceMs !== undefined && nowMs - this.judgedSinceMs < LOSS_UPDATE_INTERVAL_MS)
      return false;
    this.judge(this.lostSince / this.expectedSince);
    this.judgedSinceMs = nowMs;
    this.lostSince = 0;
    this.expectedSince = 0;
    return true;
  }

  /** A receiver report's fraction lost (0..1), for peers without transport-cc. */
  setLoss(ratio: number): void {
    this._lossRatio = Math.min(1, Math.max(0, ratio));
    this.judge(this._lossRatio);
  }

  private judge(ratio: number): void {
    this.judgedLoss = Math.min(1, Math.max(0, ratio));
    this.decreasedSinceReport = false;
    this.haveReport = true;
  }

  /**
   * Moves the estimate for the latest loss. `upperBps` is what the other
   * estimates allow (the delay-based one, REMB): the result never exceeds it.
   */
  update(nowMs: number, rttMs: number, upperBps: number): number {
    this.trimHistory(nowMs);
    if (this.haveReport) {
      if (this.judgedLoss <= LOW_LOSS) {
        const lowest = this.history[0]?.bps ?? this.bitrateBps;
        this.bitrateBps = lowest * 1.08 + 1000;
      } else if (this.judgedLoss > HIGH_LOSS) {
        if (
          !this.decreasedSinceReport &&
          nowMs - this.lastDecreaseMs >= DECREASE_INTERVAL_MS + rttMs
        ) {
          this.lastDecreaseMs = nowMs;
          this.decreasedSinceReport = true;
          this.bitrateBps *= 1 - this.judgedLoss / 2;
        }
      }
    }
    this.bitrateBps = Math.min(this.bitrateBps, upperBps, this.maxBps);
    this.bitrateBps = Math.max(this.bitrateBps, this.minBps);
    this.pushHistory(nowMs);
    return this.bitrateBps;
  }

  /** A sliding minimum of the estimate over the last second. */
  private trimHistory(nowMs: number): void {
    while (
      this.history.length > 0 &&
      nowMs - (this.history[0]?.atMs ?? nowMs) + 1 > INCREASE_INTERVAL_MS
    ) {
      this.history.shift();
    }
  }

  private pushHistory(nowMs: number): void {
    while (
      this.history.length > 0 &&
      this.bitrateBps <= (this.history[this.history.length - 1]?.bps ?? 0)
    ) {
      this.history.pop();
    }
    this.history.push({ atMs: nowMs, bps: this.bitrateBps });
  }
}
