/**
 * One viewer's video sender counters (totals since it started). The
 * session manager sums them over viewers, past ones included, for /metrics;
 * `pacerQueueDelayMaxMs` is the one maximum among them.
 */
export interface VideoSenderStats {
  packetsSent: number;
  bytesSent: number;
  framesSent: number;
  pliReceived: number;
  firReceived: number;
  nacksReceived: number;
  /** Sequence numbers the NACKs listed. */
  packetsNacked: number;
  /** NACKed packets never sent to this viewer, or no longer in the history. */
  nackMisses: number;
  /** Repairs sent as RTX (RFC 4588). */
  rtxSent: number;
  /** Repairs sent as the original packet (viewers without RTX). */
  resentWithoutRtx: number;
  repairBytesSent: number;
  /** NACKed packets not resent, by reason (send/repair-policy.ts). */
  repairsSuperseded: number;
  repairsTooOld: number;
  repairsTooSoon: number;
  repairsTooOften: number;
  repairsOverBudget: number;
  /** Key frames asked for because repair would have exceeded its budget. */
  keyFramesInsteadOfRepair: number;
  /** Key frame requests held while the path's queue drained (send/key-frame-hold.ts). */
  keyFrameRequestsHeld: number;
  /** Frames not sent to a viewer waiting for a key frame while its path drained. */
  framesSkipped: number;
  /** Queued media packets dropped because a key frame behind them made them useless. */
  packetsSuperseded: number;
  paddingBytesSent: number;
  probesSent: number;
  /** Time media packets waited in the pacer: sum, count (mean = sum / count) and maximum, ms. */
  pacerQueueDelaySumMs: number;
  pacerQueueDelayCount: number;
  pacerQueueDelayMaxMs: number;
  transportFeedbackReceived: number;
  transportFeedbackMalformed: number;
  receiverReports: number;
  rembReceived: number;
  /** Times the viewer moved between the stream's main and low encodings (stream-fanout.ts). */
  encodingSwitches: number;
}

export function emptyVideoSenderStats(): VideoSenderStats {
  return {
    packetsSent: 0,
    bytesSent: 0,
    framesSent: 0,
    pliReceived: 0,
    firReceived: 0,
    nacksReceived: 0,
    packetsNacked: 0,
    nackMisses: 0,
    rtxSent: 0,
    resentWithoutRtx: 0,
    repairBytesSent: 0,
    repairsSuperseded: 0,
    repairsTooOld: 0,
    repairsTooSoon: 0,
    repairsTooOften: 0,
    repairsOverBudget: 0,
    keyFramesInsteadOfRepair: 0,
    keyFrameRequestsHeld: 0,
    framesSkipped: 0,
    packetsSuperseded: 0,
    paddingBytesSent: 0,
    probesSent: 0,
    pacerQueueDelaySumMs: 0,
    pacerQueueDelayCount: 0,
    pacerQueueDelayMaxMs: 0,
    transportFeedbackReceived: 0,
    transportFeedbackMalformed: 0,
    receiverReports: 0,
    rembReceived: 0,
    encodingSwitches: 0,
  };
}
