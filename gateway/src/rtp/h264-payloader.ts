import { NalType, nalRefIdcBits, nalType, splitAnnexB } from "./annexb.js";

/**
 * RFC 6184 (RTP Payload Format for H.264 Video) payloader for
 * packetization-mode=1 (non-interleaved mode, RFC 6184 section 6.3), the mode
 * every WebRTC browser offers. It emits three packet types:
 *
 * - Single NAL unit packet (section 5.6) for a NAL unit that fits:
 *
 *       0                   1                   2                   3
 *       0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      |F|NRI|  Type   |                                               |
 *      +-+-+-+-+-+-+-+-+                                               |
 *      |               Bytes 2..n of a single NAL unit                 |
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * - STAP-A (section 5.7.1) aggregating consecutive small non-VCL NAL units
 *   of one access unit, typically SPS + PPS (+ SEI) before an IDR, so a key
 *   frame's parameter sets travel in one packet (slices are never
 *   aggregated, see payloadNals):
 *
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      |STAP-A NAL HDR |         NALU 1 Size           | NALU 1 HDR    |
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      |                         NALU 1 Data                           |
 *      :                                                               :
 *      +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      |               | NALU 2 Size                   | NALU 2 HDR    |
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *      |                         NALU 2 Data                           |
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   The STAP-A header's F is the OR of the aggregated F bits and its NRI the
 *   maximum of their NRIs (section 5.3; pion/rtp instead always writes
 *   NRI=3 there).
 *
 * - FU-A (section 5.8) for a NAL unit larger than the payload limit. The NAL
 *   header byte is not sent; its F/NRI go to the FU indicator and its type to
 *   the FU header, with S on the first fragment and E on the last:
 *
 *      +---------------+---------------+-------------------------------+
 *      |F|NRI|  Type=28|S|E|R|  Type   |                               |
 *      +---------------+---------------+                               |
 *      |                         FU payload                            |
 *      +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Fragments are sized evenly (not max, max, ..., tiny) so no packet is
 *   needlessly small and losses cost the same whichever fragment is hit.
 *
 * Access unit delimiters (type 9) and filler data (type 12) are dropped: they
 * carry nothing a WebRTC receiver uses (libwebrtc and pion drop them too),
 * and the marker bit already delimits access units (RFC 6184 section 5.1).
 */

/**
 * "MTU" here means the maximum RTP *payload* size in bytes, i.e. the bytes
 * after the 12-byte fixed RTP header. 1200 keeps a whole SRTP packet (12-byte
 * header + up to ~20 bytes of header extensions werift adds (mid,
 * abs-send-time, transport-cc) + 1200 payload + 10-byte SRTP auth tag) plus
 * UDP/IPv6 headers (48 bytes) under the IPv6 minimum link MTU of 1280, so
 * no path fragments it, TURN framing included on typical links.
 */
export const DEFAULT_MAX_PAYLOAD_SIZE = 1200;

/** The smallest limit that can carry an FU-A: 2 header bytes + 1 payload byte. */
export const MIN_MAX_PAYLOAD_SIZE = 3;

/**
 * One RTP payload as a list of chunks whose concatenation is the payload;
 * chunks are subarrays of the access unit where possible, so the packetizer
 * copies each byte exactly once into the final packet.
 */
export type PayloadChunks = readonly Buffer[];

/** A codec payloader as the codec-agnostic packetizer sees it. */
export interface RtpPayloader {
  /** RTP payloads for one access unit, in sending order. */
  payload(accessUnit: Buffer): PayloadChunks[];
}

export interface H264PayloaderOptions {
  /** Maximum RTP payload size in bytes (see DEFAULT_MAX_PAYLOAD_SIZE). */
  maxPayloadSize?: number;
}

const STAP_A_HEADER_SIZE = 1;
const STAP_A_LENGTH_SIZE = 2;
const FU_A_HEADER_SIZE = 2;

export class H264Payloader implements RtpPayloader {
  readonly maxPayloadSize: number;

  constructor(options: H264PayloaderOptions = {}) {
    const size = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    if (!Number.isInteger(size) || size < MIN_MAX_PAYLOAD_SIZE || size > 65_507) {
      throw new RangeError(
        `RTP max payload size must be an integer from ${MIN_MAX_PAYLOAD_SIZE} to 65507 bytes, not ${size}`,
      );
    }
    this.maxPayloadSize = size;
  }

  /** Splits an Annex-B access unit and payloads its NAL units. */
  payload(accessUnit: Buffer): PayloadChunks[] {
    return this.payloadNals(splitAnnexB(accessUnit));
  }

  /** Payloads NAL units (without start codes) of one access unit. */
  payloadNals(nals: readonly Buffer[]): PayloadChunks[] {
    const out: PayloadChunks[] = [];
    let pending: Buffer[] = [];
    const flush = (): void => {
      if (pending.length === 1 && pending[0] !== undefined) out.push([pending[0]]);
      else if (pending.length > 1) out.push(stapA(pending));
      pending = [];
    };
    for (const nal of nals) {
      const type = nalType(nal);
      if (type === NalType.aud || type === NalType.filler) continue;
      if (nal.length > this.maxPayloadSize) {
        flush();
        out.push(...this.fuA(nal));
        continue;
      }
      if (type >= NalType.slice && type <= NalType.idr) {
        // Slices travel alone: receivers (werift's H264RtpPayload among
        // them) look for a key frame in the first NAL header of a packet.
        flush();
        out.push([nal]);
        continue;
      }
      if (pending.length > 0 && stapASize([...pending, nal]) > this.maxPayloadSize) flush();
      pending.push(nal);
    }
    flush();
    return out;
  }

  private fuA(nal: Buffer): PayloadChunks[] {
    const body = nal.subarray(1);
    const room = this.maxPayloadSize - FU_A_HEADER_SIZE;
    const count = Math.ceil(body.length / room);
    const size = Math.ceil(body.length / count);
    const indicator = (nal[0] ?? 0) & 0xe0;
    const type = nalType(nal);
    const out: PayloadChunks[] = [];
    for (let i = 0; i < count; i++) {
      const start = i * size;
      const end = Math.min(body.length, start + size);
      const s = i === 0 ? 0x80 : 0;
      const e = i === count - 1 ? 0x40 : 0;
      const header = Buffer.from([indicator | NalType.fuA, s | e | type]);
      out.push([header, body.subarray(start, end)]);
    }
    return out;
  }
}

function stapASize(nals: readonly Buffer[]): number {
  let size = STAP_A_HEADER_SIZE;
  for (const nal of nals) size += STAP_A_LENGTH_SIZE + nal.length;
  return size;
}

function stapA(nals: readonly Buffer[]): PayloadChunks {
  let forbidden = 0;
  let nri = 0;
  for (const nal of nals) {
    forbidden |= (nal[0] ?? 0) & 0x80;
    nri = Math.max(nri, nalRefIdcBits(nal));
  }
  const chunks: Buffer[] = [Buffer.from([forbidden | nri | NalType.stapA])];
  for (const nal of nals) {
    const length = Buffer.allocUnsafe(STAP_A_LENGTH_SIZE);
    length.writeUInt16BE(nal.length, 0);
    chunks.push(length, nal);
  }
  return chunks;
}

/** Concatenates a payload's chunks (for tests and depacketizers). */
export function joinPayload(chunks: PayloadChunks): Buffer {
  return Buffer.concat(chunks);
}
