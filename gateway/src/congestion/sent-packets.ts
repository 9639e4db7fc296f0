import { SequenceUnwrapper } from "./sequence-unwrapper.js";
import { REFERENCE_TICK_US, type TransportFeedback } from "./transport-feedback.js";

/**
 * What the sender remembers of each packet it gave a transport-wide
 * sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01
 * section 2): when it left and how big it was, so that feedback about the
 * number can be turned into (send time, arrival time, size) results, the
 * input of every estimator here. libwebrtc's TransportFeedbackAdapter
 * plays the same role.
 */

export type SentKind = "media" | "retransmission" | "padding";

export interface SentPacket {
  /** Unwrapped transport-wide sequence number. */
  readonly sequence: number;
  /** Bytes on the wire (RTP packet plus SRTP and UDP/IP overhead). */
  readonly size: number;
  /** Send time, ms, on the sender's monotonic clock. */
  readonly sendTimeMs: number;
  readonly kind: SentKind;
  /** The probe cluster the packet belongs to, if it was sent as part of one. */
  readonly probeClusterId: number | undefined;
}

export interface PacketResult {
  readonly sent: SentPacket;
  /** Arrival time, ms, on the receiver's clock; undefined when reported lost. */
  readonly arrivalMs: number | undefined;
}

export interface FeedbackResults {
  /** Packets reported for the first time, in sequence order. */
  readonly packets: readonly PacketResult[];
  readonly received: number;
  readonly lost: number;
  /** Feedback arrival minus the send time of its newest acknowledged packet (an RTT upper bound). */
  readonly feedbackRttMs: number | undefined;
}

/** A send record as kept: with the bytes sent up to and including it. */
interface KeptPacket extends SentPacket {
  readonly bytesThrough: number;
}

/** Send records kept: about 8 s at 1000 packets/s, beyond any useful feedback delay. */
const DEFAULT_CAPACITY = 8192;

export class SentPackets {
  private readonly sendUnwrapper = new SequenceUnwrapper(16);
  private readonly referenceUnwrapper = new SequenceUnwrapper(24);
  private readonly packets = new Map<number, KeptPacket>();
  private readonly reported = new Set<number>();
  private newestSent: number | undefined;
  /** Bytes sent in all. */
  private bytesSent = 0;
  /** The newest packet feedback reported, received or lost, and when that feedback came. */
  private newestReported: { packet: KeptPacket; atMs: number } | undefined;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** Records a packet that just left with this transport-wide sequence number (16 bits). */
  add(
    sequence: number,
    size: number,
    sendTimeMs: number,
    kind: SentKind,
    probeClusterId?: number,
  ): SentPacket {
    const seq = this.sendUnwrapper.unwrap(sequence);
    this.bytesSent += size;
    const packet: KeptPacket = {
      sequence: seq,
      size,
      sendTimeMs,
      kind,
      probeClusterId,
      bytesThrough: this.bytesSent,
    };
    this.packets.set(seq, packet);
    this.newestSent = seq;
    while (this.packets.size > this.capacity) {
      const oldest = this.packets.keys().next().value;
      if (oldest === undefined) break;
      this.packets.delete(oldest);
      this.reported.delete(oldest);
    }
    return packet;
  }

  get size(): number {
    return this.packets.size;
  }

  /**
   * When the path's queues hold nothing of ours any more if its bottleneck
   * delivers `linkBps`, ms (undefined before any feedback): the newest
   * packet feedback reported (received, or lost before one that was) had
   * left the queue when it arrived, so what was queued behind it is at
   * most what was sent after it, and that takes its bytes' time at the
   * link's rate from then (from the feedback's arrival here: later than
   * the packet's, so this errs long).
   */
  emptyByMs(linkBps: number): number | undefined {
    const newest = this.newestReported;
    // Out of the records kept: too old to say.
    if (!newest || !this.packets.has(newest.packet.sequence)) return undefined;
    return newest.atMs + ((this.bytesSent - newest.packet.bytesThrough) * 8000) / linkBps;
  }

  /** Matches a feedback message against what was sent. `nowMs` is when it arrived. */
  onFeedback(feedback: TransportFeedback, nowMs: number): FeedbackResults {
    const reference = this.referenceUnwrapper.unwrap(feedback.referenceTime);
    const shiftUs = (reference - feedback.referenceTime) * REFERENCE_TICK_US;
    const packets: PacketResult[] = [];
    let received = 0;
    let lost = 0;
    let newestAcked: SentPacket | undefined;
    let newestReported: KeptPacket | undefined;
    for (const status of feedback.packets) {
      const seq = this.sendUnwrapper.peek(status.sequence);
      if (this.newestSent !== undefined && seq > this.newestSent) continue; // never sent
      const sent = this.packets.get(seq);
      if (!sent || this.reported.has(seq)) continue;
      if (!newestReported || seq > newestReported.sequence) newestReported = sent;
      if (status.arrivalUs === undefined) {
        // Reported lost: a later message may still report it received.
        lost++;
        packets.push({ sent, arrivalMs: undefined });
        continue;
      }
      this.reported.add(seq);
      received++;
      packets.push({ sent, arrivalMs: (status.arrivalUs + shiftUs) / 1000 });
      if (!newestAcked || sent.sequence > newestAcked.sequence) newestAcked = sent;
    }
    if (
      newestReported &&
      (!this.newestReported || newestReported.sequence > this.newestReported.packet.sequence)
    ) {
      this.newestReported = { packet: newestReported, atMs: nowMs };
    }
    return {
      packets,
      received,
      lost,
      feedbackRttMs: newestAcked ? nowMs - newestAcked.sendTimeMs : undefined,
    };
  }
}
