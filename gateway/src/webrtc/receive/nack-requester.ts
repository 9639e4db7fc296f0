/**
 * Which packets a receiver asks the sender for again (generic NACK, RFC 4585
 * section 6.2.1), shaped like a browser's receiver (libwebrtc's
 * NackRequester, modules/video_coding/nack_requester.cc; studied, not
 * copied): a gap is NACKed as soon as a later packet shows it, each
 * missing packet is asked for again once per round trip until it arrives,
 * up to 10 times, and packets older than the last complete frame are no
 * longer asked for. A list grown too long (1000 packets) is given up for a
 * key frame.
 *
 * werift 0.24's own receiver NACKs every missing packet every 5 ms and
 * forgets it after 10 tries, ~55 ms: with a 40 ms round trip a lost
 * retransmission was never asked for again, and the frame was given up
 * where a browser would have asked once more (docs/congestion.md, "Loss").
 */

export interface NackRequesterOptions {
  /**
   * Time between two NACKs of one packet, ms. libwebrtc's is the round trip
   * it knows, 100 ms when it knows none (a receive-only peer connection, as
   * the lab's viewers are).
   */
  resendIntervalMs?: number;
  /** NACKs per packet before it is given up (libwebrtc: 10). */
  maxRetries?: number;
  /** Missing packets tracked before the receiver asks for a key frame instead (libwebrtc: 1000). */
  maxNackPackets?: number;
}

export interface NackOutcome {
  /** Sequence numbers to NACK now. */
  readonly nack: readonly number[];
  /** The gap is too large to repair: ask for a key frame. */
  readonly keyFrame: boolean;
}

interface Missing {
  retries: number;
  lastNackAtMs: number;
}

const isNewer = (a: number, b: number): boolean => a !== b && ((a - b) & 0xffff) < 0x8000;
/** A jump this far is a new stream or a sender restart, not loss. */
const MAX_GAP = 0x4000;

export class NackRequester {
  /** Packets given up after the last retry without arriving. */
  gaveUp = 0;
  private readonly resendIntervalMs: number;
  private readonly maxRetries: number;
  private readonly maxNackPackets: number;
  private readonly missing = new Map<number, Missing>();
  private newest: number | undefined;

  constructor(options: NackRequesterOptions = {}) {
    this.resendIntervalMs = options.resendIntervalMs ?? 100;
    this.maxRetries = options.maxRetries ?? 10;
    this.maxNackPackets = options.maxNackPackets ?? 1000;
  }

  /** The packets still asked for, oldest first. */
  get pending(): number[] {
    return [...this.missing.keys()];
  }

  /** A media packet (original or repair) arrived: NACKs for the gap it shows, at once. */
  received(sequence: number, nowMs: number): NackOutcome {
    const seq = sequence & 0xffff;
    if (this.newest === undefined) {
      this.newest = seq;
      return { nack: [], keyFrame: false };
    }
    if (!isNewer(seq, this.newest)) {
      this.missing.delete(seq);
      return { nack: [], keyFrame: false };
    }
    const gap = ((seq - this.newest) & 0xffff) - 1;
    const first = (this.newest + 1) & 0xffff;
    this.newest = seq;
    if (gap === 0) return { nack: [], keyFrame: false };
    if (gap > MAX_GAP || this.missing.size + gap > this.maxNackPackets) {
      this.missing.clear();
      return { nack: [], keyFrame: true };
    }
    const nack: number[] = [];
    for (let i = 0; i < gap; i++) {
      const s = (first + i) & 0xffff;
      this.missing.set(s, { retries: 1, lastNackAtMs: nowMs });
      nack.push(s);
    }
    return { nack, keyFrame: false };
  }

  /** The packets whose last NACK is a round trip old: NACK them again (call every ~20 ms). */
  due(nowMs: number): number[] {
    const nack: number[] = [];
    for (const [seq, m] of this.missing) {
      if (nowMs - m.lastNackAtMs < this.resendIntervalMs) continue;
      if (m.retries >= this.maxRetries) {
        this.missing.delete(seq);
        this.gaveUp++;
        continue;
      }
      m.retries++;
      m.lastNackAtMs = nowMs;
      nack.push(seq);
    }
    return nack;
  }

  /** Packets before `sequence` are no longer needed (a later frame completed, or decoding restarts at a key frame). */
  clearBefore(sequence: number): void {
    for (const seq of this.missing.keys()) {
      if (isNewer(sequence & 0xffff, seq)) this.missing.delete(seq);
    }
  }
}
