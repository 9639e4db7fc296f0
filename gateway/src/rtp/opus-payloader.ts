import type { PayloadChunks, RtpPayloader } from "./h264-payloader.js";

/**
 * RTP payload format for Opus (RFC 7587). Section 4.2: the payload is
 * exactly one Opus packet (RFC 6716), never fragmented or aggregated, so the
 * payloader only checks that what it is given can be one:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                     RTP Header                                |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                 Opus packet (one, whole) ...                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The RTP clock is always 48 kHz whatever the encoder's internal rate
 * (section 4.1), and the marker bit flags the first packet of a talkspurt
 * (section 4.1, used with DTX): the packetizer's `marker` says so per frame.
 */

/** RFC 6716 section 3.4 [R1]: a packet has at least one byte (the TOC). */
const MIN_OPUS_PACKET = 1;
/** RFC 6716 section 3.2.5: 48 frames of at most 1275 bytes each, plus framing. */
export const MAX_OPUS_PACKET = 61_440;

export const OPUS_CLOCK_RATE = 48_000;

export class OpusPayloader implements RtpPayloader {
  payload(packet: Buffer): PayloadChunks[] {
    if (packet.length < MIN_OPUS_PACKET || packet.length > MAX_OPUS_PACKET) {
      throw new RangeError(
        `an Opus packet has ${MIN_OPUS_PACKET}..${MAX_OPUS_PACKET} bytes, not ${packet.length}`,
      );
    }
    return [[packet]];
  }
}
