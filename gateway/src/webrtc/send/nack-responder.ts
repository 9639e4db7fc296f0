import { RtpPacket, type GenericNack, type RTCRtpSender } from "werift";
import type { PacketHistory } from "../../rtp/packet-history.js";
import { WERIFT_RTP_CACHE } from "../werift/sender-cache.js";

/**
 * Answers generic NACKs (RFC 4585 section 6.2.1) for one viewer.
 *
 * werift's RTCRtpSender answers NACKs itself, but only from its last
 * WERIFT_RTP_CACHE (128) packets (werift/sender-cache.ts): ~0.6 s at
 * 2 Mbit/s. Its cache always holds exactly the last 128 packets sent to
 * this viewer (we never send through it out of order), so packets older than
 * that are resent here from the stream's shared history (>= 1 s), straight
 * through the DTLS transport: going through sender.sendRtp again would
 * overwrite a slot of werift's cache and count the packet as new media.
 */

export interface NackStats {
  nacksReceived: number;
  /** NACKed packets werift resent from its own cache. */
  retransmittedByWerift: number;
  /** NACKed packets resent from the shared history. */
  retransmittedFromHistory: number;
  /** NACKed packets never sent to this viewer, or no longer held. */
  nackMisses: number;
}

export class NackResponder {
  readonly stats: NackStats = {
    nacksReceived: 0,
    retransmittedByWerift: 0,
    retransmittedFromHistory: 0,
    nackMisses: 0,
  };
  private lastSentSeq = 0;
  private packetsSent = 0;

  constructor(private readonly history: PacketHistory) {}

  /** Records packets sent to the viewer (consecutive sequence numbers). */
  sent(firstSequence: number, count: number): void {
    this.packetsSent += count;
    this.lastSentSeq = (firstSequence + count - 1) & 0xffff;
  }

  /** Called after werift's own handling of the same NACK. */
  handle(sender: RTCRtpSender, nack: GenericNack): void {
    this.stats.nacksReceived++;
    const sent = Math.min(this.packetsSent, 0x1_0000);
    for (const seq of nack.lost) {
      const age = (this.lastSentSeq - seq) & 0xffff;
      if (age >= sent) {
        this.stats.nackMisses++;
        continue;
      }
      if (age < WERIFT_RTP_CACHE) {
        this.stats.retransmittedByWerift++;
        continue;
      }
      const entry = this.history.get(seq);
      const payloadType = sender.codec?.payloadType;
      if (!entry || payloadType === undefined) {
        this.stats.nackMisses++;
        continue;
      }
      // A fresh RtpPacket per resend: the shared Buffer itself stays untouched.
      const packet = RtpPacket.deSerialize(entry.packet);
      packet.header.ssrc = sender.ssrc;
      packet.header.payloadType = payloadType;
      this.stats.retransmittedFromHistory++;
      sender.dtlsTransport.sendRtp(packet.payload, packet.header).catch(() => undefined);
    }
  }
}
