import {
  BandwidthEstimator,
  type BandwidthEstimate,
  type BandwidthEstimatorOptions,
} from "./bandwidth-estimator.js";
import type { SentKind } from "./sent-packets.js";

/**
 * A recorded feedback trace: what one viewer's estimator was told, in
 * order, with the sender's clock. Recorded from real calls (the session
 * manager's `congestionTrace` option; web-viewer/bench/record-feedback-
 * trace.ts records one from Chromium) and replayed into a fresh estimator
 * in tests, so the estimator can be checked against feedback a real
 * receiver wrote, not only against the simulator's.
 */

export type TraceEvent =
  | {
      readonly type: "sent";
      readonly atMs: number;
      readonly sequence: number;
      readonly size: number;
      readonly kind: SentKind;
      readonly probeClusterId?: number;
    }
  /** A transport-cc feedback message as hex (RTCP header included). */
  | { readonly type: "feedback"; readonly atMs: number; readonly bytes: string }
  | {
      readonly type: "report";
      readonly atMs: number;
      readonly fractionLost: number;
      readonly rttMs?: number;
    }
  | { readonly type: "remb"; readonly atMs: number; readonly bps: number };

export interface FeedbackTrace {
  /** Where and how it was recorded. */
  readonly source: string;
  readonly events: readonly TraceEvent[];
}

/**
 * Feeds a trace into a fresh estimator on the trace's clock; returns every
 * estimate it made, in order. Probe clusters of the recording are unknown
 * to the new estimator, so probe results are not replayed.
 */
export function replayTrace(
  trace: FeedbackTrace,
  options: Omit<BandwidthEstimatorOptions, "now" | "probing"> = {},
): BandwidthEstimate[] {
  let now = trace.events[0]?.atMs ?? 0;
  const estimator = new BandwidthEstimator({ ...options, probing: false, now: () => now });
  const estimates: BandwidthEstimate[] = [];
  estimator.on("estimate", (e) => estimates.push(e));
  for (const event of trace.events) {
    now = event.atMs;
    switch (event.type) {
      case "sent":
        estimator.onPacketSent(event.sequence, event.size, event.kind);
        break;
      case "feedback":
        estimator.onTransportFeedback(Buffer.from(event.bytes, "hex"));
        break;
      case "report":
        estimator.onReceiverReport(event.fractionLost, event.rttMs);
        break;
      case "remb":
        estimator.onRemb(event.bps);
        break;
    }
  }
  estimator.close();
  return estimates;
}
