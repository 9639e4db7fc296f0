import { H264RtpPayload } from "werift";

/**
 * werift 0.24.4 workaround, docs/werift.md "H.264 depacketizer payload".
 *
 * werift's RFC 6184 depacketizer (H264RtpPayload.deSerialize in
 * packages/rtp/src/codec/h264.ts) types `payload` as Buffer but leaves it
 * undefined until the last FU-A fragment of a NAL unit; reading it as typed
 * would push `undefined` into a frame. This wrapper says so in its type.
 */

export interface DepacketizedH264 {
  /** Annex-B bytes (start code + NAL unit(s)) completed by this packet, if any. */
  readonly annexB: Buffer | undefined;
  /** The FU-A fragment carried over to the next packet of the same NAL unit. */
  readonly fragment: Buffer | undefined;
  /** werift's own key frame guess for this packet. */
  readonly keyframe: boolean;
}

/** One RTP payload through werift's depacketizer; pass the previous `fragment` back in. */
export function depacketizeH264(payload: Buffer, fragment: Buffer | undefined): DepacketizedH264 {
  if (payload.length < 2) return shortPayload(payload, fragment);
  const h264 = H264RtpPayload.deSerialize(payload, fragment);
  const chunk: unknown = Reflect.get(h264, "payload");
  return {
    annexB: Buffer.isBuffer(chunk) ? chunk : undefined,
    fragment: h264.fragment,
    keyframe: h264.isKeyframe,
  };
}

/**
 * A payload of 0 or 1 byte. werift 0.24.4 reads the FU header (byte 1) of
 * every payload before it looks at the type, so it throws TypeError on a
 * one-byte single NAL unit packet (found by fuzzing, docs/fuzzing.md): the
 * end-of-sequence and end-of-stream NAL units (H.264 types 10 and 11) are
 * one byte, and a payloader sends them alone. Such a payload can only be a
 * single NAL unit packet (RFC 6184 section 5.6).
 */
function shortPayload(payload: Buffer, fragment: Buffer | undefined): DepacketizedH264 {
  const header = payload[0];
  const type = (header ?? 0) & 0x1f;
  if (header === undefined || type === 0 || type >= 24) {
    return { annexB: undefined, fragment, keyframe: false };
  }
  return {
    annexB: Buffer.from([0, 0, 0, 1, header]),
    fragment: undefined,
    keyframe: type === 5,
  };
}
