import { NalType } from "../../rtp/annexb.js";
import { depacketizeH264 } from "../werift/h264-depacketizer.js";

/**
 * Receiver side of RFC 6184: orders H.264 RTP packets by sequence number,
 * waits a little for missing ones (a NACK may bring them back), and turns
 * each complete access unit (marker bit, RFC 6184 section 5.1) into Annex-B
 * with werift's depacketizer (werift/h264-depacketizer.ts). After a loss it drops frames until the next
 * key frame (they would reference a picture the decoder never got) and asks
 * for one.
 */

export interface ReceivedFrame {
  /** Annex-B access unit (4-byte start codes). */
  readonly data: Buffer;
  readonly rtpTimestamp: number;
  readonly keyframe: boolean;
  /** Wall-clock time the last packet of the frame arrived, µs since the Unix epoch. */
  readonly receivedAtUs: number;
  readonly firstSequence: number;
  readonly packetCount: number;
  /**
   * Capture time on the sender's clock, µs since the Unix epoch, from the
   * abs-capture-time header extension (set by the HeadlessViewer, not here).
   */
  readonly captureUnixUs?: number;
}

export interface FrameAssemblerOptions {
  onFrame: (frame: ReceivedFrame) => void;
  /** Called when decoding cannot go on without a key frame. */
  onNeedKeyFrame: () => void;
  /** How long a gap may stay open before the frame is given up (default 300 ms). */
  maxWaitMs?: number;
  now?: () => number;
}

interface Slot {
  readonly timestamp: number;
  readonly marker: boolean;
  readonly payload: Buffer;
  readonly arrivedAt: number;
}

export interface FrameAssemblerStats {
  packetsReceived: number;
  duplicates: number;
  /** RFC 3550 A.3: expected (extended highest - first + 1) minus received. */
  packetsLost: number;
  framesDropped: number;
}

/** True when the packet starts an IDR access unit as our payloader (and browsers) send it. */
export function startsKeyFrame(payload: Buffer): boolean {
  const type = (payload[0] ?? 0) & 0x1f;
  if (type === NalType.sps || type === NalType.idr) return true;
  if (type === NalType.stapA) return ((payload[3] ?? 0) & 0x1f) === NalType.sps;
  if (type === NalType.fuA)
    return ((payload[1] ?? 0) & 0x80) !== 0 && ((payload[1] ?? 0) & 0x1f) === NalType.idr;
  return false;
}

const seqNewer = (a: number, b: number): boolean => a !== b && ((a - b) & 0xffff) < 0x8000;

export class FrameAssembler {
  private readonly slots = new Map<number, Slot>();
  private readonly maxWaitMs: number;
  private readonly now: () => number;
  private nextSeq: number | undefined;
  private waitingForKeyFrame = true;
  private gapSince: number | undefined;
  private baseSeq: number | undefined;
  private highestExt = 0;
  private unique = 0;
  readonly stats: FrameAssemblerStats = {
    packetsReceived: 0,
    duplicates: 0,
    packetsLost: 0,
    framesDropped: 0,
  };

  constructor(private readonly options: FrameAssemblerOptions) {
    this.maxWaitMs = options.maxWaitMs ?? 300;
    this.now = options.now ?? (() => performance.now());
  }

  push(sequence: number, timestamp: number, marker: boolean, payload: Buffer): void {
    this.stats.packetsReceived++;
    const late = this.nextSeq !== undefined && seqNewer(this.nextSeq, sequence);
    if (late || this.slots.has(sequence)) {
      this.stats.duplicates++;
      return;
    }
    this.countForLoss(sequence);
    this.slots.set(sequence, { timestamp, marker, payload, arrivedAt: this.now() });
    this.drain();
  }

  private countForLoss(sequence: number): void {
    if (this.baseSeq === undefined) {
      this.baseSeq = sequence;
      this.highestExt = sequence;
    } else {
      const delta = (sequence - (this.highestExt & 0xffff)) & 0xffff;
      if (delta < 0x8000) this.highestExt += delta;
    }
    this.unique++;
    this.stats.packetsLost = Math.max(0, this.highestExt - this.baseSeq + 1 - this.unique);
  }

  private drain(): void {
    for (;;) {
      if (this.nextSeq === undefined && !this.findStart()) return;
      const start = this.nextSeq ?? 0;
      const seqs: number[] = [];
      let seq = start;
      let complete = false;
      for (let slot = this.slots.get(seq); slot; slot = this.slots.get(seq)) {
        seqs.push(seq);
        seq = (seq + 1) & 0xffff;
        if (slot.marker) {
          complete = true;
          break;
        }
      }
      if (complete) {
        this.gapSince = undefined;
        this.emitFrame(seqs);
        this.nextSeq = seq;
        continue;
      }
      // A complete key frame after the gap restarts decoding at once, as a
      // browser's frame buffer does (libwebrtc decodes it and drops what it
      // waited for): the gap's repair is no longer needed.
      const keyFrame = this.completeKeyFrameAfter(seq);
      if (keyFrame !== undefined) {
        for (const s of [...this.slots.keys()]) if (seqNewer(keyFrame, s)) this.slots.delete(s);
        this.gapSince = undefined;
        this.nextSeq = keyFrame;
        this.stats.framesDropped++;
        continue;
      }
      const now = this.now();
      this.gapSince ??= now;
      const newer = [...this.slots.keys()].some((s) => seqNewer(s, seq));
      if (!newer || now - this.gapSince < this.maxWaitMs) return;
      // Give up on the gap: drop until a key frame and ask for one. The
      // broken frame's packets go too: left behind, its start (a key frame's,
      // which findStart keeps) was picked again and again and every later
      // IDR waited behind it, a freeze no browser shows (it drops the broken
      // IDR and decodes the next: the network lab's 300 kbit/s cap).
      for (const s of seqs) this.slots.delete(s);
      this.gapSince = undefined;
      this.nextSeq = undefined;
      this.stats.framesDropped++;
      this.waitingForKeyFrame = true;
      this.options.onNeedKeyFrame();
    }
  }

  /** The first packet of a key frame after `seq` whose packets have all arrived, if any. */
  private completeKeyFrameAfter(seq: number): number | undefined {
    let best: number | undefined;
    for (const [s, slot] of this.slots) {
      if (!seqNewer(s, seq) || !startsKeyFrame(slot.payload)) continue;
      if (best !== undefined && seqNewer(s, best)) continue;
      if (this.completeFrom(s)) best = s;
    }
    return best;
  }

  private completeFrom(start: number): boolean {
    let seq = start;
    for (let slot = this.slots.get(seq); slot; slot = this.slots.get(seq)) {
      if (slot.marker) return true;
      seq = (seq + 1) & 0xffff;
    }
    return false;
  }

  /** Picks the oldest buffered key frame start as the next frame; prunes stale packets. */
  private findStart(): boolean {
    const now = this.now();
    let best: number | undefined;
    let bestAt = Number.POSITIVE_INFINITY;
    for (const [seq, slot] of this.slots) {
      if (startsKeyFrame(slot.payload) && slot.arrivedAt < bestAt) {
        best = seq;
        bestAt = slot.arrivedAt;
      } else if (now - slot.arrivedAt > this.maxWaitMs) {
        this.slots.delete(seq);
      }
    }
    if (best === undefined) return false;
    for (const seq of [...this.slots.keys()]) {
      if (seqNewer(best, seq)) this.slots.delete(seq);
    }
    this.nextSeq = best;
    return true;
  }

  private emitFrame(seqs: readonly number[]): void {
    const parts: Buffer[] = [];
    let fragment: Buffer | undefined;
    let keyframe = false;
    let timestamp = 0;
    for (const seq of seqs) {
      const slot = this.slots.get(seq);
      this.slots.delete(seq);
      if (!slot) continue;
      timestamp = slot.timestamp;
      const h264 = depacketizeH264(slot.payload, fragment);
      fragment = h264.fragment;
      if (h264.keyframe || startsKeyFrame(slot.payload)) keyframe = true;
      if (h264.annexB) parts.push(h264.annexB);
    }
    if (this.waitingForKeyFrame && !keyframe) {
      this.stats.framesDropped++;
      return;
    }
    this.waitingForKeyFrame = false;
    const first = seqs[0] ?? 0;
    this.options.onFrame({
      data: Buffer.concat(parts),
      rtpTimestamp: timestamp,
      keyframe,
      receivedAtUs: Math.round((performance.timeOrigin + performance.now()) * 1000),
      firstSequence: first,
      packetCount: seqs.length,
    });
  }
}
