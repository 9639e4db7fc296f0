/**
 * Turns two getStats() snapshots into the stats panel's figures. Pure: it reads
 * plain objects with the W3C webrtc-stats field names, so tests feed it
 * recorded values. Rates come from deltas between snapshots; fps falls back
 * to framesDecoded deltas where framesPerSecond is missing.
 */

type StatsEntry = Readonly<Record<string, unknown>>;

export interface StatsSample {
  /** performance.now() (ms) when the snapshot was taken. */
  readonly at: number;
  readonly bytesReceived: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  readonly framesDecoded: number;
  readonly framesDropped: number;
  readonly frameWidth: number | undefined;
  readonly frameHeight: number | undefined;
  readonly framesPerSecond: number | undefined;
  readonly freezeCount: number | undefined;
  readonly jitterBufferDelay: number | undefined;
  readonly jitterBufferEmittedCount: number | undefined;
  readonly nackCount: number;
  readonly pliCount: number;
  readonly codec: string | undefined;
  /** Seconds, from the selected ICE candidate pair (STUN consent checks). */
  readonly currentRoundTripTime: number | undefined;
  /** Repaired packets (RTX) that carried media; RTX padding counts as packets but no bytes. */
  readonly retransmittedBytesReceived: number;
  /**
   * The last RTCP sender report (remote-outbound-rtp): when it arrived and
   * the sender's NTP time in it, both ms since the Unix epoch.
   */
  readonly senderReport: { arrivedUnixMs: number; remoteUnixMs: number } | undefined;
}

export interface VideoStats {
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fps: number | undefined;
  readonly kbps: number | undefined;
  readonly rttMs: number | undefined;
  readonly packetsLost: number;
  readonly packetsReceived: number;
  readonly framesDecoded: number;
  readonly framesDropped: number;
  readonly freezes: number | undefined;
  /** Mean time a frame waited in the jitter buffer (ms), over the last interval. */
  readonly jitterBufferMs: number | undefined;
  readonly nacks: number;
  readonly plis: number;
  readonly codec: string | undefined;
}

function num(entry: StatsEntry | undefined, key: string): number | undefined {
  const value = entry?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function str(entry: StatsEntry | undefined, key: string): string | undefined {
  const value = entry?.[key];
  return typeof value === "string" ? value : undefined;
}

/** Reads the video inbound-rtp, its codec and the selected candidate pair. */
export function sampleFromStats(entries: Iterable<StatsEntry>, at: number): StatsSample {
  const byId = new Map<string, StatsEntry>();
  let inbound: StatsEntry | undefined;
  let remoteOutbound: StatsEntry | undefined;
  let selectedPairId: string | undefined;
  for (const entry of entries) {
    const id = str(entry, "id");
    if (id !== undefined) byId.set(id, entry);
    if (entry.type === "inbound-rtp" && entry.kind === "video") inbound ??= entry;
    if (entry.type === "remote-outbound-rtp" && entry.kind === "video") remoteOutbound ??= entry;
    if (entry.type === "transport") selectedPairId ??= str(entry, "selectedCandidatePairId");
  }
  let pair = selectedPairId === undefined ? undefined : byId.get(selectedPairId);
  // Some browsers have no transport entry: fall back to the nominated, working pair.
  pair ??= [...byId.values()].find(
    (e) => e.type === "candidate-pair" && e.nominated === true && e.state === "succeeded",
  );
  const codecId = str(inbound, "codecId");
  const codec = codecId === undefined ? undefined : byId.get(codecId);
  return {
    at,
    bytesReceived: num(inbound, "bytesReceived") ?? 0,
    packetsReceived: num(inbound, "packetsReceived") ?? 0,
    packetsLost: num(inbound, "packetsLost") ?? 0,
    framesDecoded: num(inbound, "framesDecoded") ?? 0,
    framesDropped: num(inbound, "framesDropped") ?? 0,
    frameWidth: num(inbound, "frameWidth"),
    frameHeight: num(inbound, "frameHeight"),
    framesPerSecond: num(inbound, "framesPerSecond"),
    freezeCount: num(inbound, "freezeCount"),
    jitterBufferDelay: num(inbound, "jitterBufferDelay"),
    jitterBufferEmittedCount: num(inbound, "jitterBufferEmittedCount"),
    nackCount: num(inbound, "nackCount") ?? 0,
    pliCount: num(inbound, "pliCount") ?? 0,
    codec: str(codec, "mimeType")?.replace(/^video\//i, ""),
    currentRoundTripTime: num(pair, "currentRoundTripTime"),
    retransmittedBytesReceived: num(inbound, "retransmittedBytesReceived") ?? 0,
    senderReport: senderReportOf(remoteOutbound),
  };
}

function senderReportOf(entry: StatsEntry | undefined): StatsSample["senderReport"] {
  const arrivedUnixMs = num(entry, "timestamp");
  const remoteUnixMs = num(entry, "remoteTimestamp");
  return arrivedUnixMs === undefined || remoteUnixMs === undefined
    ? undefined
    : { arrivedUnixMs, remoteUnixMs };
}

function delta(cur: number | undefined, prev: number | undefined): number | undefined {
  return cur === undefined || prev === undefined ? undefined : cur - prev;
}

/** Figures for the interval between `prev` and `cur` (totals from `cur`). */
export function summarizeStats(prev: StatsSample | undefined, cur: StatsSample): VideoStats {
  const seconds = prev === undefined ? 0 : (cur.at - prev.at) / 1000;
  // A counter that went down means a new peer connection: no rate this time.
  const fresh = prev !== undefined && seconds > 0 && cur.bytesReceived >= prev.bytesReceived;
  const kbps = fresh ? ((cur.bytesReceived - prev.bytesReceived) * 8) / 1000 / seconds : undefined;
  const decodedFps = fresh ? (cur.framesDecoded - prev.framesDecoded) / seconds : undefined;
  const waited = fresh ? delta(cur.jitterBufferDelay, prev.jitterBufferDelay) : undefined;
  const emitted = fresh
    ? delta(cur.jitterBufferEmittedCount, prev.jitterBufferEmittedCount)
    : undefined;
  return {
    width: cur.frameWidth,
    height: cur.frameHeight,
    fps: cur.framesPerSecond ?? decodedFps,
    kbps,
    rttMs: cur.currentRoundTripTime === undefined ? undefined : cur.currentRoundTripTime * 1000,
    packetsLost: cur.packetsLost,
    packetsReceived: cur.packetsReceived,
    framesDecoded: cur.framesDecoded,
    framesDropped: cur.framesDropped,
    freezes: cur.freezeCount,
    jitterBufferMs:
      waited !== undefined && emitted !== undefined && emitted > 0
        ? (waited / emitted) * 1000
        : undefined,
    nacks: cur.nackCount,
    plis: cur.pliCount,
    codec: cur.codec,
  };
}
