import { RtpHeader, RtpPacket, type MediaStreamTrack, type RTCRtpSender } from "werift";
import { transportSequence } from "../send/rtp-extensions.js";
import { nextTransportSequence } from "./transport-cc.js";

/**
 * werift 0.24.4, docs/werift.md "What we build on" (sendRtp): the two ways a
 * packet leaves, at the moment the pacer releases it.
 *
 * Media goes through the viewer's own track into werift's RTCRtpSender,
 * which sets SSRC, payload type, sdes:mid and the transport-wide sequence
 * number and counts the packet for sender reports, all synchronously inside
 * track.writeRtp (the RtpPacket we pass is mutated in place, so its size
 * after the call is the size sent). Packets camgw makes itself (RTX,
 * padding, plain resends) go straight to the DTLS transport, with a
 * transport-wide number from the same counter: going through sendRtp would
 * count them as new media in the sender report.
 */

/** SRTP's 10-byte auth tag (AES_CM_128_HMAC_SHA1_80) plus UDP and IPv4 headers. */
export const WIRE_OVERHEAD_BYTES = 10 + 8 + 20;

export interface HeaderExtension {
  readonly id: number;
  readonly payload: Buffer;
}

export interface SentPacketInfo {
  /** The transport-wide sequence number it carries, if transport-cc was negotiated. */
  readonly transportSequence: number | undefined;
  /** Bytes on the wire. */
  readonly size: number;
}

function connected(sender: RTCRtpSender): boolean {
  return (sender.dtlsTransport as RTCRtpSender["dtlsTransport"] | undefined)?.state === "connected";
}

/**
 * Sends one of the stream's packets (shared, immutable bytes: parsed afresh
 * here) with our header extensions added, as sequence number `sequence`
 * (the viewer's numbering: it differs from the bytes' after the viewer
 * switched encodings). Undefined when werift would drop it (DTLS not up,
 * no codec).
 */
export function sendMedia(
  track: MediaStreamTrack,
  sender: RTCRtpSender,
  bytes: Buffer,
  extensions: readonly HeaderExtension[],
  sequence?: number,
): SentPacketInfo | undefined {
  if (!connected(sender) || !sender.codec) return undefined;
  const transport = sender.dtlsTransport;
  const before = transport.transportSequenceNumber;
  const packet = RtpPacket.deSerialize(bytes);
  if (sequence !== undefined) packet.header.sequenceNumber = sequence;
  packet.header.extensions = extensions.map((e) => ({ id: e.id, payload: e.payload }));
  track.writeRtp(packet);
  const after = transport.transportSequenceNumber;
  return {
    transportSequence: after !== before ? after : undefined,
    size: packet.header.serializeSize + packet.payload.length + WIRE_OVERHEAD_BYTES,
  };
}

export interface OwnPacket {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly payload: Buffer;
  /** Padding bytes to append (RFC 3550 section 5.1; 1..255). */
  readonly padding?: number;
  readonly extensions: readonly HeaderExtension[];
  /** The negotiated transport-cc extension ID: the packet then takes a transport-wide number. */
  readonly transportCcId: number | undefined;
}

/** Sends a packet camgw built (RTX, padding, a resend) straight to the DTLS transport. */
export function sendOwn(sender: RTCRtpSender, own: OwnPacket): SentPacketInfo | undefined {
  if (!connected(sender)) return undefined;
  const transport = sender.dtlsTransport;
  const extensions = own.extensions.map((e) => ({ id: e.id, payload: e.payload }));
  let seq: number | undefined;
  if (own.transportCcId !== undefined) {
    seq = nextTransportSequence(transport);
    extensions.push({ id: own.transportCcId, payload: transportSequence(seq) });
    extensions.sort((a, b) => a.id - b.id);
  }
  const paddingBytes = own.padding ?? 0;
  const header = new RtpHeader({
    ssrc: own.ssrc,
    payloadType: own.payloadType,
    sequenceNumber: own.sequenceNumber,
    timestamp: own.timestamp,
    marker: own.marker,
    extensions,
    padding: paddingBytes > 0,
    paddingSize: paddingBytes,
  });
  let payload = own.payload;
  if (paddingBytes > 0) {
    // The padding travels in the payload: werift's SRTP encrypts header + payload as given.
    const pad = Buffer.alloc(paddingBytes);
    pad[paddingBytes - 1] = paddingBytes;
    payload = Buffer.concat([own.payload, pad]);
  }
  const size = header.serializeSize + payload.length + WIRE_OVERHEAD_BYTES;
  transport.sendRtp(payload, header).catch(() => undefined);
  return { transportSequence: seq, size };
}

export interface WireHeader {
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly payloadType: number;
}

/**
 * Tests only: drops RTP packets for which `drop` returns true at the last
 * step, after werift has numbered and counted them, as a lossy network
 * would (loss that transport-cc, NACK and RTX then see). Wraps the DTLS
 * transport's sendRtp on this instance; returns the undo.
 */
export function dropOnWire(
  sender: RTCRtpSender,
  drop: (header: WireHeader) => boolean,
): () => void {
  const transport = sender.dtlsTransport;
  const original = transport.sendRtp.bind(transport);
  const replacement = (payload: Buffer, header: RtpHeader): Promise<number> =>
    drop(header) ? Promise.resolve(0) : original(payload, header);
  transport.sendRtp = replacement;
  return () => {
    if (transport.sendRtp === replacement) Reflect.deleteProperty(transport, "sendRtp");
  };
}
