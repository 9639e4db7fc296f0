import { ntpFromUnixUs, unixUsFromNtp } from "../../rtp/ntp.js";

/**
 * The RTP header extensions camgw writes itself (RFC 8285 one-byte
 * elements; werift writes sdes:mid and keeps what we give it for the rest,
 * see werift/header-extensions.ts). Pure byte layouts, no werift.
 */

export const URI = {
  sdesMid: "urn:ietf:params:rtp-hdrext:sdes:mid",
  absSendTime: "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  transportCc: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
  playoutDelay: "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
  absCaptureTime: "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
} as const;

/**
 * abs-send-time (webrtc.org/experiments/rtp-hdrext/abs-send-time): the send
 * time as 24-bit 6.18 fixed point seconds (the NTP time's low 6 bits of
 * seconds and top 18 bits of fraction). A receiver only uses differences.
 */
export function absSendTime(unixUs: number): Buffer {
  // Seconds mod 64 with an 18-bit fraction, in plain numbers (every packet
  // carries one: no BigInt). The NTP epoch offset is a multiple of 64 s
  // plus 2208988800 mod 64 = 0, so Unix seconds mod 64 serve as well.
  const value = Math.floor(((unixUs / 1_000_000) % 64) * 2 ** 18) & 0xff_ffff;
  const out = Buffer.alloc(3);
  out.writeUIntBE(value, 0, 3);
  return out;
}

/** transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 2). */
export function transportSequence(sequence: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(sequence & 0xffff, 0);
  return out;
}

/**
 * playout-delay (webrtc.org/experiments/rtp-hdrext/playout-delay): the
 * smallest and largest delay, 12 bits each in 10 ms units, that the
 * receiver should keep between capture and render. min 0 with a small max
 * puts Chrome's receiver into its low-latency rendering path (frames go to
 * the screen as soon as they decode).
 *
 *     0                   1                   2
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |       MIN delay       |       MAX delay       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function playoutDelay(minMs: number, maxMs: number): Buffer {
  const unit = (ms: number): number => Math.min(0xfff, Math.max(0, Math.round(ms / 10)));
  const value = (unit(minMs) << 12) | unit(maxMs);
  const out = Buffer.alloc(3);
  out.writeUIntBE(value, 0, 3);
  return out;
}

export function readPlayoutDelay(data: Buffer): { minMs: number; maxMs: number } | undefined {
  if (data.length !== 3) return undefined;
  const value = data.readUIntBE(0, 3);
  return { minMs: (value >> 12) * 10, maxMs: (value & 0xfff) * 10 };
}

/**
 * abs-capture-time (webrtc.org/experiments/rtp-hdrext/abs-capture-time):
 * the frame's capture time as a 64-bit NTP timestamp (UQ32.32), optionally
 * followed by the sender's estimate of the offset between the capture
 * clock and its own (Q32.32; zero here: camgw captures on its own clock).
 */
export function absCaptureTime(captureUnixUs: number, withClockOffset = true): Buffer {
  const out = Buffer.alloc(withClockOffset ? 16 : 8);
  out.writeBigUInt64BE(ntpFromUnixUs(captureUnixUs), 0);
  return out;
}

export interface AbsCaptureTime {
  /** Capture time, µs since the Unix epoch, on the capture system's clock. */
  readonly captureUnixUs: number;
  /** The sender's estimate of (capture clock - sender clock), µs, when sent. */
  readonly clockOffsetUs: number | undefined;
}

export function readAbsCaptureTime(data: Buffer): AbsCaptureTime | undefined {
  if (data.length !== 8 && data.length !== 16) return undefined;
  const captureUnixUs = unixUsFromNtp(data.readBigUInt64BE(0));
  const clockOffsetUs =
    data.length === 16 ? Math.round((Number(data.readBigInt64BE(8)) / 2 ** 32) * 1e6) : undefined;
  return { captureUnixUs, clockOffsetUs };
}
