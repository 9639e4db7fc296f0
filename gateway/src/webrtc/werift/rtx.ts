import { RTCRtpCodecParameters, type RTCRtpSender } from "werift";

/**
 * werift 0.24.4, docs/werift.md "What we build on" (RTX).
 *
 * werift negotiates RTX (RFC 4588) when the offer has an rtx codec whose
 * apt names a codec it sends (TransceiverManager.setRemoteRTP), answers it
 * with an SSRC of its own for the repair stream (a=ssrc-group:FID media
 * rtx, SdpManager), and keeps the payload type (RTCRtpSender.prepareSend,
 * `rtxPayloadType`) and SSRC (`rtxSsrc`) on the sender. Its own RTX answers
 * to NACKs are never used: NACKs are taken from it (sender-feedback.ts)
 * and send/nack-responder.ts builds the RTX packets.
 */

/** The rtx codec to declare to werift so it keeps the offer's rtx for the chosen H.264. */
export function rtxCodec(payloadType: number, apt: number): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "video/rtx",
    clockRate: 90_000,
    payloadType,
    parameters: `apt=${apt}`,
  });
}

export interface RtxStream {
  readonly ssrc: number;
  readonly payloadType: number;
}

/** The negotiated repair stream, or undefined when the viewer offered no RTX. */
export function negotiatedRtx(sender: RTCRtpSender): RtxStream | undefined {
  // Private in werift's typings, set by prepareSend.
  const payloadType: unknown = Reflect.get(sender, "rtxPayloadType");
  return typeof payloadType === "number" ? { ssrc: sender.rtxSsrc, payloadType } : undefined;
}
