/**
 * Fuzz target "rtcp-feedback": a viewer's (decrypted) RTCP as werift hands
 * it over. werift's RtcpPacketConverter.deSerialize (werift 0.24.4,
 * packages/rtp/src/rtcp/rtcp.ts) parses the compound packet; its throws
 * are counted, not failed, since werift's DTLS transport catches them and
 * drops the packet (transport/dtls.ts, "dropping malformed SRTCP packet").
 * Then our handlers: FIR detection (werift/fir.ts asksForKeyFrame) and the
 * NACK responder (send/nack-responder.ts) with a real PacketHistory.
 * Properties: nothing of ours throws; each lost sequence number of a NACK is
 * accounted exactly once (a repair, a miss, or a repair the policy held
 * back); every repair is a sequence number the NACK listed, with the very
 * packet the history holds for it.
 */
import {
  GenericNack,
  RtcpPacketConverter,
  RtcpTransportLayerFeedback,
  RtpHeader,
  RtpPacket,
} from "werift";
import { PacketHistory } from "../../rtp/packet-history.js";
import { bytesCodec, defineTarget, expectThat, type Notes } from "../../fuzz/fuzz-target.js";
import { mutatedBytes } from "../../fuzz/mutate.js";
import { NackResponder } from "../send/nack-responder.js";
import { asksForKeyFrame } from "../werift/fir.js";

const SENDER_SSRC = 0x1111_1111;
const MEDIA_SSRC = 0x1234_5678;
const PACKETS_SENT = 2000;

/** An RTCP packet: common header (RFC 3550 section 6.4.1) and its body in 32-bit words. */
function rtcp(countOrFmt: number, type: number, body: number[]): Buffer {
  const out = Buffer.alloc(4 + body.length * 4);
  out[0] = 0x80 | countOrFmt;
  out[1] = type;
  out.writeUInt16BE(body.length, 2);
  body.forEach((word, i) => out.writeUInt32BE(word >>> 0, 4 + i * 4));
  return out;
}

const SEEDS: Buffer[] = [
  // RR with one report block + SDES CNAME "abcd": what a browser sends every second.
  Buffer.concat([
    rtcp(1, 201, [SENDER_SSRC, MEDIA_SSRC, 0x0100_0002, 0x0000_07d0, 12, 0, 0]),
    rtcp(1, 202, [SENDER_SSRC, 0x0104_6162, 0x6364_0000]),
  ]),
  // Generic NACK (RFC 4585 section 6.2.1): pid 16, blp 0b101.
  rtcp(1, 205, [SENDER_SSRC, MEDIA_SSRC, 0x0010_0005]),
  // Generic NACK of recent packets (werift's cache) and of ones never sent.
  rtcp(1, 205, [SENDER_SSRC, MEDIA_SSRC, 0x07c0_ffff, 0xfff0_0001]),
  // PLI (RFC 4585 section 6.3.1).
  rtcp(1, 206, [SENDER_SSRC, MEDIA_SSRC]),
  // FIR (RFC 5104 section 4.3.1): media SSRC 0, the target in the FCI.
  rtcp(4, 206, [SENDER_SSRC, 0, MEDIA_SSRC, 0x0100_0000]),
  // REMB (draft-alvestrand-rmcat-remb): 1 SSRC, 1.5 Mbit/s.
  rtcp(15, 206, [SENDER_SSRC, 0, 0x5245_4d42, 0x0116_e360, MEDIA_SSRC]),
  // transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01):
  // base 1, 3 packets, a run-length chunk of small deltas.
  rtcp(15, 205, [SENDER_SSRC, MEDIA_SSRC, 0x0001_0003, 0x0000_0100, 0x2003_0404, 0x0400_0000]),
  // SR (RFC 3550 section 6.4.1).
  rtcp(0, 200, [SENDER_SSRC, 0xe000_0000, 0, 90_000, 10, 12_000]),
];

const TOKENS = [
  "\x80\xc9",
  "\x81\xcd",
  "\x81\xce",
  "\x84\xce",
  "\x8f\xcd",
  "\x8f\xce",
  "REMB",
  "\xa0",
];

/** The stream's recent packets, as the fan-out keeps them (sequence numbers 0..1999). */
const history = new PacketHistory(PACKETS_SENT);
history.add(
  0,
  Array.from({ length: PACKETS_SENT }, (_, seq) =>
    new RtpPacket(
      new RtpHeader({ sequenceNumber: seq, timestamp: seq * 3000, payloadType: 96, ssrc: 1 }),
      Buffer.from([0x41, seq & 0xff, seq >> 8]),
    ).serialize(),
  ),
  0,
);

export const rtcpFeedbackTarget = defineTarget({
  name: "rtcp-feedback",
  about:
    "viewer RTCP through werift's RtcpPacketConverter, then FIR detection and the NACK responder",
  arbitrary: mutatedBytes(SEEDS, { tokens: TOKENS, maxLength: 1500 }),
  codec: bytesCodec,
  budgetMs: 1000,
  corpusDir: "gateway/src/webrtc/fuzz/corpus/rtcp-feedback",
  check(bytes: Uint8Array, notes: Notes) {
    let packets;
    try {
      packets = RtcpPacketConverter.deSerialize(Buffer.from(bytes));
    } catch (error) {
      notes.add(
        `werift RtcpPacketConverter.deSerialize threw ${error instanceof Error ? error.name : typeof error} (packet dropped by werift)`,
      );
      return;
    }
    // A fresh responder for each input that holds a NACK (one in ten), made
    // at its first NACK: only NACKs use it, and making it (2,000 packets
    // sent) was half the CPU of the inputs that hold none.
    let responder: NackResponder | undefined;
    const freshResponder = (): NackResponder => {
      const made = new NackResponder(history);
      for (let seq = 0; seq < PACKETS_SENT; seq++) made.sent(seq, 0);
      return made;
    };
    for (const packet of packets) {
      if (asksForKeyFrame(packet, MEDIA_SSRC)) notes.add("FIR for the stream");
      if (
        !(packet instanceof RtcpTransportLayerFeedback) ||
        !(packet.feedback instanceof GenericNack)
      ) {
        continue;
      }
      const nack = packet.feedback;
      responder ??= freshResponder();
      const nacks = responder;
      const before = structuredClone(nacks.stats);
      // 100 ms after sending, a 40 ms round trip, 1 Mbit/s estimated.
      const answer = nacks.handle(nack.lost, 100, 40, 1_000_000);
      const s = nacks.stats;
      expectThat(s.nacksReceived === before.nacksReceived + 1, "a NACK not counted once");
      const suppressed = (stats: typeof s): number =>
        Object.values(stats.repairsSuppressed).reduce((a, b) => a + b, 0);
      const accounted =
        answer.repairs.length +
        (s.nackMisses - before.nackMisses) +
        (suppressed(s) - suppressed(before));
      expectThat(
        accounted === nack.lost.length,
        `${nack.lost.length} lost sequence numbers, ${accounted} accounted for`,
      );
      expectThat(
        s.repairsQueued - before.repairsQueued === answer.repairs.length,
        "repairs and the count of repairs differ",
      );
      for (const r of answer.repairs) {
        const held = history.get(r.sequence);
        expectThat(held !== undefined, `repairs ${r.sequence}, which the history does not hold`);
        expectThat(held.packet.equals(r.packet), "a repair with another packet");
        // werift's GenericNack does not wrap PID + n past 65535; sequence numbers are mod 2^16.
        expectThat(
          nack.lost.some((lost) => (lost & 0xffff) === r.sequence),
          "repaired a packet nobody asked for",
        );
      }
      notes.add("NACKs handled");
    }
  },
});
