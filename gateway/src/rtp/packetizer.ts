import { randomInt } from "node:crypto";
import type { RtpPayloader } from "./h264-payloader.js";

/**
 * Codec-agnostic RTP packetizer (RFC 3550 section 5.1). It turns one access
 * unit into complete RTP packets, once, as immutable Buffers that the fan-out
 * hands to every viewer (werift re-parses them per sender and writes its own
 * SSRC, payload type and header extensions, so the shared bytes are never
 * touched).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                           timestamp                           |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           synchronization source (SSRC) identifier            |
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * The marker bit is set on the last packet of an access unit (RFC 6184
 * section 5.1). The timestamp is the capture time on the codec clock plus a
 * random offset (RFC 3550 section 5.1: the initial value should be random),
 * so the sender-report NTP/RTP mapping follows from the capture time alone.
 */

/**
 * The fixed RTP header above, in bytes: what the packetizer writes (no CSRC,
 * no extension). An RTP packet size limit minus this is the payload limit.
 */
export const RTP_HEADER_SIZE = 12;

export interface RtpPacketizerOptions {
  payloader: RtpPayloader;
  /** Dynamic payload type; werift rewrites it per viewer to the negotiated one. */
  payloadType?: number;
  ssrc?: number;
  /** Codec clock, Hz (90 kHz for video, RFC 6184 section 8.2.1). */
  clockRate?: number;
  /** First sequence number; random by default (RFC 3550 section 5.1). */
  initialSequence?: number;
  /** Offset added to the capture-time clock; random by default. */
  timestampOffset?: number;
}

/** What one access unit became: packets plus what RTCP and NACK need. */
export interface PacketizedFrame {
  /** Complete RTP packets (header + payload), never mutated after creation. */
  readonly packets: readonly Buffer[];
  readonly firstSequence: number;
  readonly timestamp: number;
  readonly captureTimeUs: number;
  readonly keyframe: boolean;
}

export interface FrameToPacketize {
  readonly data: Buffer;
  readonly captureTimeUs: number;
  readonly keyframe: boolean;
  /**
   * The marker bit of every packet, when the codec defines it otherwise
   * than video's "last packet of the access unit" (Opus, RFC 7587 section
   * 4.1: the first packet of a talkspurt).
   */
  readonly marker?: boolean;
}

const UINT32 = 0x1_0000_0000;

export class RtpPacketizer {
  readonly payloadType: number;
  readonly ssrc: number;
  readonly clockRate: number;
  readonly timestampOffset: number;
  private readonly payloader: RtpPayloader;
  private sequence: number;

  constructor(options: RtpPacketizerOptions) {
    this.payloader = options.payloader;
    this.payloadType = options.payloadType ?? 96;
    this.ssrc = options.ssrc ?? randomInt(1, 0xffff_ffff);
    this.clockRate = options.clockRate ?? 90_000;
    this.sequence = options.initialSequence ?? randomInt(0, 0x1_0000);
    this.timestampOffset = options.timestampOffset ?? randomInt(0, 0xffff_ffff);
    if (!Number.isInteger(this.payloadType) || this.payloadType < 0 || this.payloadType > 127) {
      throw new RangeError(`RTP payload type must be an integer 0..127, not ${this.payloadType}`);
    }
    if (!Number.isInteger(this.sequence) || this.sequence < 0 || this.sequence > 0xffff) {
      throw new RangeError(
        `RTP initial sequence must be an integer 0..65535, not ${this.sequence}`,
      );
    }
  }

  /** The RTP timestamp of a capture time (microseconds), mod 2^32. */
  timestampOf(captureTimeUs: number): number {
    const ticks = Math.round((captureTimeUs * this.clockRate) / 1_000_000);
    return (((ticks + this.timestampOffset) % UINT32) + UINT32) % UINT32;
  }

  /** The sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.sequence;
  }

  packetize(frame: FrameToPacketize): PacketizedFrame {
    const payloads = this.payloader.payload(frame.data);
    const timestamp = this.timestampOf(frame.captureTimeUs);
    const firstSequence = this.sequence;
    const packets: Buffer[] = [];
    payloads.forEach((chunks, index) => {
      let size = RTP_HEADER_SIZE;
      for (const chunk of chunks) size += chunk.length;
      const packet = Buffer.allocUnsafe(size);
      const last = index === payloads.length - 1;
      const marker = (frame.marker ?? last) ? 0x80 : 0;
      packet[0] = 0x80; // V=2, no padding, no extension, CC=0
      packet[1] = marker | this.payloadType;
      packet.writeUInt16BE(this.sequence, 2);
      packet.writeUInt32BE(timestamp, 4);
      packet.writeUInt32BE(this.ssrc, 8);
      let offset = RTP_HEADER_SIZE;
      for (const chunk of chunks) offset += chunk.copy(packet, offset);
      packets.push(packet);
      this.sequence = (this.sequence + 1) & 0xffff;
    });
    return {
      packets,
      firstSequence,
      timestamp,
      captureTimeUs: frame.captureTimeUs,
      keyframe: frame.keyframe,
    };
  }
}
