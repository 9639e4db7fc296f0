/**
 * Transport-wide congestion control feedback (draft-holmer-rmcat-transport-
 * wide-cc-extensions-01, section 3.1): an RTCP transport-layer feedback
 * message (PT=205, FMT=15) that reports, for a run of transport-wide
 * sequence numbers, which packets arrived and when.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|  FMT=15 |    PT=205     |           length              |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                     SSRC of packet sender                     |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                      SSRC of media source                     |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      base sequence number     |      packet status count      |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                 reference time                | fb pkt. count |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |          packet chunk         |         packet chunk          |
 *    .                              ...                              .
 *    |         packet chunk          |  recv delta   |  recv delta   |
 *    .                              ...                              .
 *    |           recv delta          |  recv delta   | zero padding  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A packet chunk is either a run length chunk (T=0: one status S, 13-bit
 * run length) or a status vector chunk (T=1: fourteen 1-bit symbols, or
 * seven 2-bit symbols when S=1). Statuses: 0 not received, 1 received with
 * a small delta (one unsigned byte), 2 received with a large or negative
 * delta (two bytes, signed). Deltas count 250 us from the previous received
 * packet's arrival, the first one from the reference time (a 24-bit count
 * of 64 ms, in the receiver's clock).
 *
 * werift 0.24.4 parses this message but folds only run length chunks into
 * its per-packet results and truncates every delta to whole milliseconds
 * (docs/werift.md "transport-cc feedback"), so camgw parses the bytes here.
 */

export const TRANSPORT_FEEDBACK_FMT = 15;
export const RTPFB_PACKET_TYPE = 205;

/** 250 us: the unit of a receive delta. */
export const DELTA_TICK_US = 250;
/** 64 ms: the unit of the reference time. */
export const REFERENCE_TICK_US = 64_000;

export const STATUS_NOT_RECEIVED = 0;
export const STATUS_SMALL_DELTA = 1;
export const STATUS_LARGE_DELTA = 2;

export interface FeedbackPacketStatus {
  /** Transport-wide sequence number (16 bits). */
  readonly sequence: number;
  /**
   * Arrival time in microseconds on the receiver's clock: reference time
   * (x 64 ms) plus the deltas so far; undefined when reported lost.
   */
  readonly arrivalUs: number | undefined;
}

export interface TransportFeedback {
  readonly senderSsrc: number;
  readonly mediaSsrc: number;
  readonly baseSequence: number;
  /** Reference time, 24 bits, in units of 64 ms (wraps; the reader unwraps). */
  readonly referenceTime: number;
  /** Feedback packet count, 8 bits: tells a lost feedback packet. */
  readonly feedbackCount: number;
  readonly packets: readonly FeedbackPacketStatus[];
}

/**
 * Parses one transport-wide feedback message (RTCP header included).
 * Throws RangeError when the bytes are not one.
 */
export function parseTransportFeedback(packet: Buffer): TransportFeedback {
  if (packet.length < 20) throw new RangeError("transport-cc feedback shorter than 20 bytes");
  if (packet[0] === undefined || packet[0] >> 6 !== 2)
    throw new RangeError("RTCP version is not 2");
  if ((packet[0] & 0x1f) !== TRANSPORT_FEEDBACK_FMT || packet[1] !== RTPFB_PACKET_TYPE) {
    throw new RangeError("not a transport-cc feedback message (RTPFB FMT 15)");
  }
  const end = (packet.readUInt16BE(2) + 1) * 4;
  if (end > packet.length) throw new RangeError("transport-cc feedback length exceeds the data");
  // Padding (P bit, or the draft's zero padding) follows the last delta and
  // is never read: the status count says how many deltas there are.
  const senderSsrc = packet.readUInt32BE(4);
  const mediaSsrc = packet.readUInt32BE(8);
  const baseSequence = packet.readUInt16BE(12);
  const statusCount = packet.readUInt16BE(14);
  const referenceTime = packet.readUIntBE(16, 3);
  const feedbackCount = packet[19] ?? 0;

  const statuses: number[] = [];
  let offset = 20;
  while (statuses.length < statusCount) {
    if (offset + 2 > end)
      throw new RangeError("transport-cc feedback ends inside its packet chunks");
    const chunk = packet.readUInt16BE(offset);
    offset += 2;
    const left = statusCount - statuses.length;
    if ((chunk & 0x8000) === 0) {
      const status = (chunk >> 13) & 0x3;
      const run = chunk & 0x1fff;
      for (let i = 0; i < Math.min(run, left); i++) statuses.push(status);
    } else if ((chunk & 0x4000) === 0) {
      for (let i = 0; i < Math.min(14, left); i++) statuses.push((chunk >> (13 - i)) & 0x1);
    } else {
      for (let i = 0; i < Math.min(7, left); i++) statuses.push((chunk >> (12 - 2 * i)) & 0x3);
    }
  }

  const packets: FeedbackPacketStatus[] = [];
  let arrivalUs = referenceTime * REFERENCE_TICK_US;
  statuses.forEach((status, i) => {
    const sequence = (baseSequence + i) & 0xffff;
    if (status === STATUS_NOT_RECEIVED) {
      packets.push({ sequence, arrivalUs: undefined });
      return;
    }
    let ticks: number;
    if (status === STATUS_SMALL_DELTA) {
      if (offset + 1 > end) throw new RangeError("transport-cc feedback ends inside its deltas");
      ticks = packet.readUInt8(offset);
      offset += 1;
    } else if (status === STATUS_LARGE_DELTA) {
      if (offset + 2 > end) throw new RangeError("transport-cc feedback ends inside its deltas");
      ticks = packet.readInt16BE(offset);
      offset += 2;
    } else {
      throw new RangeError("transport-cc feedback uses the reserved status 3");
    }
    arrivalUs += ticks * DELTA_TICK_US;
    packets.push({ sequence, arrivalUs });
  });
  return { senderSsrc, mediaSsrc, baseSequence, referenceTime, feedbackCount, packets };
}

/** A packet to report: its sequence number and, if it arrived, its delta in 250 us ticks. */
export interface FeedbackEntry {
  readonly sequence: number;
  /** Ticks since the previous received packet (or the reference time); undefined: lost. */
  readonly deltaTicks: number | undefined;
}

function statusOf(entry: FeedbackEntry): number {
  const d = entry.deltaTicks;
  if (d === undefined) return STATUS_NOT_RECEIVED;
  return d >= 0 && d <= 0xff ? STATUS_SMALL_DELTA : STATUS_LARGE_DELTA;
}

/** Packs statuses into chunks: a run length chunk for runs of 7 or more, else status vectors. */
function packChunks(statuses: readonly number[]): number[] {
  const chunks: number[] = [];
  let i = 0;
  while (i < statuses.length) {
    const status = statuses[i] ?? 0;
    let run = 1;
    while (i + run < statuses.length && statuses[i + run] === status && run < 0x1fff) run++;
    if (run >= 7) {
      chunks.push((status << 13) | run);
      i += run;
      continue;
    }
    const next14 = statuses.slice(i, i + 14);
    if (next14.length === 14 && next14.every((s) => s <= STATUS_SMALL_DELTA)) {
      let chunk = 0x8000;
      next14.forEach((s, k) => (chunk |= s << (13 - k)));
      chunks.push(chunk);
      i += 14;
      continue;
    }
    let chunk = 0xc000;
    statuses.slice(i, i + 7).forEach((s, k) => (chunk |= s << (12 - 2 * k)));
    chunks.push(chunk);
    i += 7;
  }
  return chunks;
}

/**
 * Writes one feedback message for `entries` (consecutive sequence numbers,
 * the first being the base sequence; at least one received). Large deltas
 * must fit a signed 16-bit count of 250 us (about +-8 s).
 */
export function serializeTransportFeedback(feedback: {
  senderSsrc: number;
  mediaSsrc: number;
  referenceTime: number;
  feedbackCount: number;
  entries: readonly FeedbackEntry[];
}): Buffer {
  const { entries } = feedback;
  const first = entries[0];
  if (!first) throw new RangeError("transport-cc feedback needs at least one packet");
  if (entries.length > 0xffff) throw new RangeError("too many packets for one feedback message");
  const statuses = entries.map(statusOf);
  const chunks = packChunks(statuses);
  let deltaBytes = 0;
  for (const s of statuses)
    deltaBytes += s === STATUS_SMALL_DELTA ? 1 : s === STATUS_LARGE_DELTA ? 2 : 0;
  const unpadded = 20 + chunks.length * 2 + deltaBytes;
  const size = Math.ceil(unpadded / 4) * 4;
  const out = Buffer.alloc(size);
  const padded = size !== unpadded;
  out[0] = 0x80 | (padded ? 0x20 : 0) | TRANSPORT_FEEDBACK_FMT;
  out[1] = RTPFB_PACKET_TYPE;
  out.writeUInt16BE(size / 4 - 1, 2);
  out.writeUInt32BE(feedback.senderSsrc >>> 0, 4);
  out.writeUInt32BE(feedback.mediaSsrc >>> 0, 8);
  out.writeUInt16BE(first.sequence & 0xffff, 12);
  out.writeUInt16BE(entries.length, 14);
  out.writeUIntBE(feedback.referenceTime & 0xffffff, 16, 3);
  out[19] = feedback.feedbackCount & 0xff;
  let offset = 20;
  for (const chunk of chunks) offset = out.writeUInt16BE(chunk, offset);
  entries.forEach((entry, i) => {
    const status = statuses[i];
    const d = entry.deltaTicks ?? 0;
    if (status === STATUS_SMALL_DELTA) offset = out.writeUInt8(d, offset);
    else if (status === STATUS_LARGE_DELTA) {
      if (d < -0x8000 || d > 0x7fff)
        throw new RangeError(`receive delta ${d} x 250 us does not fit`);
      offset = out.writeInt16BE(d, offset);
    }
  });
  if (padded) out[size - 1] = size - unpadded;
  return out;
}
