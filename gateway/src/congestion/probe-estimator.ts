import type { PacketResult } from "./sent-packets.js";

/**
 * Measures the link from probe clusters: short bursts sent at a set rate
 * (see probe-controller.ts). From the feedback on a cluster's packets it
 * takes the send rate and the receive rate (each leaving out the one packet
 * its interval does not cover) and returns the lower; a receive rate under
 * 90 % of the send rate means the burst hit the link's capacity, and the
 * result is then 95 % of what was received. As libwebrtc's
 * ProbeBitrateEstimator, a cluster needs 80 % of its packets and bytes
 * reported, and intervals of at most 1 s.
 */

export interface ProbeCluster {
  readonly id: number;
  /** The rate the cluster is sent at. */
  readonly bitrateBps: number;
  /** Bytes and packets the cluster must at least have (15 ms at its rate, 5 packets). */
  readonly minBytes: number;
  readonly minPackets: number;
}

interface Aggregate {
  firstSendMs: number;
  lastSendMs: number;
  lastSendSize: number;
  firstArrivalMs: number;
  firstArrivalSize: number;
  lastArrivalMs: number;
  bytes: number;
  packets: number;
  lastSeenMs: number;
}

const MIN_RECEIVED_RATIO = 0.8;
const MAX_VALID_RATIO = 2;
const UNSATURATED_RATIO = 0.9;
const TARGET_UTILIZATION = 0.95;
const MAX_INTERVAL_MS = 1000;
const CLUSTER_HISTORY_MS = 1000;

export class ProbeEstimator {
  private readonly clusters = new Map<number, Aggregate>();

  constructor(private readonly clusterOf: (id: number) => ProbeCluster | undefined) {}

  /** Adds a received probe packet; returns a rate once its cluster says enough. */
  add(result: PacketResult, nowMs: number): number | undefined {
    const id = result.sent.probeClusterId;
    const arrival = result.arrivalMs;
    if (id === undefined || arrival === undefined) return undefined;
    const cluster = this.clusterOf(id);
    if (!cluster) return undefined;
    for (const [key, c] of this.clusters) {
      if (nowMs - c.lastSeenMs > CLUSTER_HISTORY_MS) this.clusters.delete(key);
    }
    const { sendTimeMs, size } = result.sent;
    let c = this.clusters.get(id);
    if (!c) {
      c = {
        firstSendMs: sendTimeMs,
        lastSendMs: sendTimeMs,
        lastSendSize: size,
        firstArrivalMs: arrival,
        firstArrivalSize: size,
        lastArrivalMs: arrival,
        bytes: 0,
        packets: 0,
        lastSeenMs: nowMs,
      };
      this.clusters.set(id, c);
    }
    if (sendTimeMs < c.firstSendMs) c.firstSendMs = sendTimeMs;
    if (sendTimeMs >= c.lastSendMs) {
      c.lastSendMs = sendTimeMs;
      c.lastSendSize = size;
    }
    if (arrival < c.firstArrivalMs) {
      c.firstArrivalMs = arrival;
      c.firstArrivalSize = size;
    }
    if (arrival > c.lastArrivalMs) c.lastArrivalMs = arrival;
    c.bytes += size;
    c.packets++;
    c.lastSeenMs = nowMs;

    if (c.packets < cluster.minPackets * MIN_RECEIVED_RATIO) return undefined;
    if (c.bytes < cluster.minBytes * MIN_RECEIVED_RATIO) return undefined;
    const sendInterval = c.lastSendMs - c.firstSendMs;
    const receiveInterval = c.lastArrivalMs - c.firstArrivalMs;
    if (sendInterval <= 0 || sendInterval > MAX_INTERVAL_MS) return undefined;
    if (receiveInterval <= 0 || receiveInterval > MAX_INTERVAL_MS) return undefined;
    const sendBps = ((c.bytes - c.lastSendSize) * 8 * 1000) / sendInterval;
    const receiveBps = ((c.bytes - c.firstArrivalSize) * 8 * 1000) / receiveInterval;
    if (receiveBps / sendBps > MAX_VALID_RATIO) return undefined;
    if (receiveBps < UNSATURATED_RATIO * sendBps) return TARGET_UTILIZATION * receiveBps;
    return Math.min(sendBps, receiveBps);
  }
}
