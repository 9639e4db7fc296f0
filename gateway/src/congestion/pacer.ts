import type { ProbeCluster } from "./probe-estimator.js";
import { RateWindow } from "./rate-window.js";

/**
 * A paced sender's queue: packets leave at a rate rather than as the
 * encoder made them, so a key frame (5-10x a P-frame) reaches a Wi-Fi or
 * cellular queue spread out instead of as one burst that the link's own
 * buffer has to absorb (libwebrtc's PacingController does the same).
 *
 * - Rate: `factor` (2.5, libwebrtc's pacing factor) x the larger of the
 *   target and what the encoder is producing (measured over a second), so
 *   the pacer never throttles the stream below its own rate: until an
 *   encoder policy makes the stream follow the estimate, the link's queue,
 *   not ours, has to take any excess.
 * - Burst: a budget of `burstMs` at that rate may go at once, so a
 *   P-frame of a steady stream leaves without delay and only frames larger
 *   than the budget (key frames) are spread.
 * - Bound: nothing waits longer than `maxQueueMs`; the rate rises to drain
 *   the queue in time (latency beats smoothness for a live camera).
 * - Order: retransmissions first, then media; padding only in probes.
 * - Key frames: a key frame's first packet drops the media (and repairs)
 *   still queued before it: the key frame makes them useless to a decoder,
 *   and the viewer sees the new picture sooner.
 * - Probes: while a probe cluster runs, packets the budget lets go count
 *   towards it, and padding fills up to the cluster's rate until it has its
 *   bytes and packets (a probe never holds media back).
 */

export type PacketPriority = "retransmission" | "media";

export interface PacerClock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface PacerOptions<T> {
  /** Sends one queued packet now; returns the bytes that went (0 if it could not). */
  send(item: T, probeClusterId: number | undefined): number;
  /** Sends one padding packet of about `bytes` for a probe; returns the bytes that went (0: cannot pad). */
  pad(bytes: number, probeClusterId: number): number;
  /** Packets dropped from the queue (superseded by a key frame, or at close). */
  dropped?(items: readonly T[]): void;
  /** Pacing factor over the target (default 2.5); Infinity: no pacing (packets leave as queued). */
  factor?: number;
  /** Burst budget, ms at the pacing rate (default 40, as libwebrtc's burst interval). */
  burstMs?: number;
  /** Longest any packet may wait, ms (default 250). */
  maxQueueMs?: number;
  clock?: PacerClock;
}

export interface PacerStats {
  packetsSent: number;
  bytesSent: number;
  paddingBytesSent: number;
  /** Media packets dropped because a key frame behind them made them useless. */
  packetsSuperseded: number;
  /** Sum and count of the time media packets waited, ms (mean = sum / count). */
  queueDelaySumMs: number;
  queueDelayCount: number;
  queueDelayMaxMs: number;
  probesSent: number;
}

interface Queued<T> {
  readonly item: T;
  readonly size: number;
  readonly priority: PacketPriority;
  readonly enqueuedAtMs: number;
}

interface ActiveProbe {
  readonly cluster: ProbeCluster;
  readonly startMs: number;
  bytes: number;
  packets: number;
}

export const DEFAULT_PACING_FACTOR = 2.5;
const DEFAULT_BURST_MS = 40;
const DEFAULT_MAX_QUEUE_MS = 250;
/** A budget always lets one full packet through, however low the rate. */
const MIN_BURST_BYTES = 1500;
/** Padding packets carry at most 255 bytes of padding (RFC 3550 section 5.1: an 8-bit count). */
const MAX_PADDING_BYTES = 255;

const realClock: PacerClock = {
  now: () => performance.now(),
  setTimer: (cb, ms) => setTimeout(cb, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Pacer<T> {
  readonly stats: PacerStats = {
    packetsSent: 0,
    bytesSent: 0,
    paddingBytesSent: 0,
    packetsSuperseded: 0,
    queueDelaySumMs: 0,
    queueDelayCount: 0,
    queueDelayMaxMs: 0,
    probesSent: 0,
  };
  private readonly options: PacerOptions<T>;
  private readonly clock: PacerClock;
  private readonly factor: number;
  private readonly paced: boolean;
  private readonly burstMs: number;
  private readonly maxQueueMs: number;
  private readonly repairs: Queued<T>[] = [];
  private readonly media: Queued<T>[] = [];
  private readonly probes: ProbeCluster[] = [];
  private readonly inputRate = new RateWindow(1000);
  private probe: ActiveProbe | undefined;
  private targetBps = 0;
  private streamBps = 0;
  private budgetBytes = 0;
  private lastRefillMs: number;
  private timer: unknown;
  private timerAtMs = Infinity;
  private queuedBytes = 0;
  private closed = false;

  constructor(options: PacerOptions<T>) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.factor = options.factor ?? DEFAULT_PACING_FACTOR;
    this.paced = Number.isFinite(this.factor);
    this.burstMs = options.burstMs ?? DEFAULT_BURST_MS;
    this.maxQueueMs = options.maxQueueMs ?? DEFAULT_MAX_QUEUE_MS;
    // A fresh pacer starts with a full budget.
    this.lastRefillMs = this.clock.now() - this.burstMs;
  }

  /** The rate packets leave at now, bit/s (before the queue bound raises it). */
  get pacingBps(): number {
    const input = Math.max(this.streamBps, this.inputRate.rateBps(this.clock.now()));
    return this.factor * Math.max(this.targetBps, input);
  }

  get queuedPackets(): number {
    return this.repairs.length + this.media.length;
  }

  get queueBytes(): number {
    return this.queuedBytes;
  }

  /** How long the oldest queued packet has waited, ms. */
  get queueDelayMs(): number {
    const oldest = Math.min(
      this.repairs[0]?.enqueuedAtMs ?? Infinity,
      this.media[0]?.enqueuedAtMs ?? Infinity,
    );
    return oldest === Infinity ? 0 : this.clock.now() - oldest;
  }

  /**
   * The estimate to pace around, bit/s, and the stream's own rate (what the
   * encoder makes, for all viewers: a viewer that just joined has no history
   * of its own yet).
   */
  setTarget(targetBps: number, streamBps = 0): void {
    this.targetBps = targetBps;
    this.streamBps = streamBps;
  }

  /**
   * Queues a packet. `keyFrameStart` marks the first packet of a key frame:
   * the media and repairs queued before it are dropped.
   */
  enqueue(item: T, size: number, priority: PacketPriority, keyFrameStart = false): void {
    if (this.closed) return;
    const nowMs = this.clock.now();
    if (keyFrameStart && this.queuedPackets > 0) {
      const stale = [...this.repairs.splice(0), ...this.media.splice(0)];
      this.stats.packetsSuperseded += stale.length;
      this.queuedBytes = 0;
      this.options.dropped?.(stale.map((q) => q.item));
    }
    if (priority === "media") this.inputRate.add(size, nowMs);
    const queued: Queued<T> = { item, size, priority, enqueuedAtMs: nowMs };
    (priority === "retransmission" ? this.repairs : this.media).push(queued);
    this.queuedBytes += size;
    this.process();
  }

  /** Sends a probe cluster (after any running one). */
  sendProbe(cluster: ProbeCluster): void {
    if (this.closed) return;
    this.probes.push(cluster);
    this.process();
  }

  /** Drops everything queued and stops (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer();
    const rest = [...this.repairs.splice(0), ...this.media.splice(0)];
    this.queuedBytes = 0;
    if (rest.length > 0) this.options.dropped?.(rest.map((q) => q.item));
  }

  private process(): void {
    if (this.closed) return;
    const nowMs = this.clock.now();
    this.cancelTimer();
    this.refill(nowMs);
    let wakeAtMs = Infinity;
    for (;;) {
      if (!this.probe && this.probes.length > 0) {
        const cluster = this.probes.shift();
        if (cluster) this.probe = { cluster, startMs: nowMs, bytes: 0, packets: 0 };
      }
      // Queued packets go by the pacing budget, probe or not (a probe never
      // holds media back); while a probe runs they count towards it.
      const next = this.repairs[0] ?? this.media[0];
      if (next && (!this.paced || this.budgetBytes > 0)) {
        this.dequeue(next);
        const sent = this.options.send(next.item, this.probe?.cluster.id);
        this.account(next, sent, nowMs);
        this.budgetBytes -= next.size;
        if (this.probe && sent > 0) {
          this.probe.bytes += sent;
          this.probe.packets++;
        }
        continue;
      }
      if (this.probe) {
        const due = this.probe.startMs + (this.probe.bytes * 8000) / this.probe.cluster.bitrateBps;
        if (due <= nowMs) {
          if (!this.sendPadding(this.probe)) this.probe = undefined;
          continue;
        }
        wakeAtMs = due;
      }
      if (next) {
        const refillAtMs =
          nowMs + Math.max(1, (-this.budgetBytes * 8000) / this.effectiveRate(nowMs));
        wakeAtMs = Math.min(wakeAtMs, refillAtMs);
      }
      break;
    }
    if (wakeAtMs !== Infinity) this.schedule(wakeAtMs, nowMs);
  }

  /** One padding packet of the running probe; false when the probe is done (or cannot pad). */
  private sendPadding(probe: ActiveProbe): boolean {
    const { cluster } = probe;
    if (probe.bytes >= cluster.minBytes && probe.packets >= cluster.minPackets) {
      this.stats.probesSent++;
      return false;
    }
    const want = Math.min(MAX_PADDING_BYTES, Math.max(1, cluster.minBytes - probe.bytes));
    const sent = this.options.pad(want, cluster.id);
    if (sent <= 0) return false; // cannot pad: give the probe up
    this.stats.paddingBytesSent += sent;
    this.stats.bytesSent += sent;
    this.stats.packetsSent++;
    probe.bytes += sent;
    probe.packets++;
    return true;
  }

  private dequeue(q: Queued<T>): void {
    (q.priority === "retransmission" ? this.repairs : this.media).shift();
    this.queuedBytes -= q.size;
  }

  private account(q: Queued<T>, sent: number, nowMs: number): void {
    if (sent <= 0) return;
    this.stats.packetsSent++;
    this.stats.bytesSent += sent;
    if (q.priority === "media") {
      const waited = nowMs - q.enqueuedAtMs;
      this.stats.queueDelaySumMs += waited;
      this.stats.queueDelayCount++;
      if (waited > this.stats.queueDelayMaxMs) this.stats.queueDelayMaxMs = waited;
    }
  }

  /** The pacing rate, raised when the queue would otherwise outlast maxQueueMs. */
  private effectiveRate(nowMs: number): number {
    const rate = Math.max(1, this.pacingBps);
    const left = Math.max(1, this.maxQueueMs - (nowMs - this.oldestEnqueuedMs()));
    return Math.max(rate, (this.queuedBytes * 8000) / left);
  }

  private oldestEnqueuedMs(): number {
    return Math.min(
      this.repairs[0]?.enqueuedAtMs ?? Infinity,
      this.media[0]?.enqueuedAtMs ?? Infinity,
    );
  }

  private refill(nowMs: number): void {
    if (!this.paced) return;
    const elapsed = Math.max(0, nowMs - this.lastRefillMs);
    this.lastRefillMs = nowMs;
    const rate = this.queuedPackets > 0 ? this.effectiveRate(nowMs) : Math.max(1, this.pacingBps);
    const cap = Math.max(MIN_BURST_BYTES, (rate * this.burstMs) / 8000);
    this.budgetBytes = Math.min(cap, this.budgetBytes + (rate * elapsed) / 8000);
  }

  private schedule(atMs: number, nowMs: number): void {
    this.timerAtMs = atMs;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = undefined;
        this.timerAtMs = Infinity;
        this.process();
      },
      Math.max(0, atMs - nowMs),
    );
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }
}
