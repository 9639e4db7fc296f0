import type { ProbeCluster } from "./probe-estimator.js";
import type { BandwidthUsage } from "./trendline.js";

/**
 * Decides when to probe the link above the current estimate, so that the
 * estimate (and the encoder following it) climbs back fast after
 * congestion rather than at the controllers' few percent a second. A
 * camera's sender is application-limited most of the time: without probes
 * the delay-based estimate may not rise past 1.5 x what is sent.
 *
 * - At the start: two clusters, 3x and 6x the start rate (libwebrtc's
 *   initial probing), capped at the maximum.
 * - Exponential: a probe that measured at least 70 % of its rate is
 *   followed by one at twice the result, until the maximum.
 * - After congestion, on the way back up: once the detector has read
 *   "normal" for a second, while the estimate is below the maximum, a probe
 *   at 2x the estimate; a probe that finds nothing more backs the next one
 *   off (2 s, 4 s, then every 5 s: a few kilobytes, and the climb back
 *   after a cap lifts never waits longer), a new congestion event resets that.
 *
 * Probes exist only when the sender can send padding (RTX negotiated), and
 * a cluster lasts 15 ms at its rate, 5 packets at least.
 */

const INITIAL_MULTIPLIERS = [3, 6] as const;
const EXPONENTIAL_THRESHOLD = 0.7;
const PROBE_DURATION_MS = 15;
const MIN_PROBE_PACKETS = 5;
const RESULT_TIMEOUT_MS = 1000;
const CALM_BEFORE_PROBE_MS = 1000;
const FIRST_RECOVERY_INTERVAL_MS = 2000;
const MAX_RECOVERY_INTERVAL_MS = 5000;

export interface ProbeControllerOptions {
  startBps: number;
  maxBps: number;
}

export class ProbeController {
  private nextId = 1;
  private started = false;
  private readonly clusters = new Map<number, ProbeCluster>();
  private waiting: { cluster: ProbeCluster; sentAtMs: number } | undefined;
  private lastProbeAtMs = Number.NEGATIVE_INFINITY;
  private lastNotNormalAtMs = Number.NEGATIVE_INFINITY;
  private recoveryIntervalMs = FIRST_RECOVERY_INTERVAL_MS;

  constructor(private readonly options: ProbeControllerOptions) {}

  /** A probe is out and its result not yet in. */
  get probing(): boolean {
    return this.waiting !== undefined;
  }

  /** A cluster this controller made (recent ones only). */
  cluster(id: number): ProbeCluster | undefined {
    return this.clusters.get(id);
  }

  /** Clusters to send now. `usage` is the delay detector's latest reading. */
  process(nowMs: number, estimateBps: number, usage: BandwidthUsage): ProbeCluster[] {
    if (usage !== "normal") {
      this.lastNotNormalAtMs = nowMs;
    }
    if (usage === "overusing") this.recoveryIntervalMs = FIRST_RECOVERY_INTERVAL_MS;
    if (!this.started) {
      this.started = true;
      const out = INITIAL_MULTIPLIERS.map((m) =>
        Math.min(this.options.maxBps, m * this.options.startBps),
      )
        .filter((bps) => bps > estimateBps)
        .map((bps) => this.make(bps, nowMs));
      return out;
    }
    if (this.waiting && nowMs - this.waiting.sentAtMs > RESULT_TIMEOUT_MS) this.waiting = undefined;
    if (this.waiting) return [];
    if (estimateBps >= this.options.maxBps) return [];
    if (nowMs - this.lastNotNormalAtMs < CALM_BEFORE_PROBE_MS) return [];
    if (nowMs - this.lastProbeAtMs < this.recoveryIntervalMs) return [];
    this.recoveryIntervalMs = Math.min(MAX_RECOVERY_INTERVAL_MS, this.recoveryIntervalMs * 2);
    return [this.make(Math.min(this.options.maxBps, 2 * estimateBps), nowMs)];
  }

  /** A cluster measured `resultBps`; returns a follow-up cluster when worth one. */
  onResult(clusterId: number, resultBps: number, nowMs: number): ProbeCluster[] {
    const cluster = this.clusters.get(clusterId);
    if (!cluster) return [];
    if (this.waiting?.cluster.id === clusterId) this.waiting = undefined;
    if (resultBps < EXPONENTIAL_THRESHOLD * cluster.bitrateBps) return [];
    this.recoveryIntervalMs = FIRST_RECOVERY_INTERVAL_MS;
    const next = Math.min(this.options.maxBps, 2 * resultBps);
    // Only ever further up: a probe at the rate just tried would measure the same.
    if (next <= cluster.bitrateBps) return [];
    return [this.make(next, nowMs)];
  }

  private make(bitrateBps: number, nowMs: number): ProbeCluster {
    const cluster: ProbeCluster = {
      id: this.nextId++,
      bitrateBps,
      minBytes: Math.ceil((bitrateBps * PROBE_DURATION_MS) / 8000),
      minPackets: MIN_PROBE_PACKETS,
    };
    this.clusters.set(cluster.id, cluster);
    for (const id of this.clusters.keys()) {
      if (id < cluster.id - 16) this.clusters.delete(id);
    }
    this.waiting = { cluster, sentAtMs: nowMs };
    this.lastProbeAtMs = nowMs;
    return cluster;
  }
}
