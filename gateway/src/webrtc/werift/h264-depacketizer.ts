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
  const h264 = H264RtpPayload.deSerialize(payload, fragment);
  const chunk: unknown = Reflect.get(h264, "payload");
  return {
    annexB: Buffer.isBuffer(chunk) ? chunk : undefined,
    fragment: h264.fragment,
    keyframe: h264.isKeyframe,
  };
}
