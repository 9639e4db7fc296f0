import { RTCRtpCodecParameters } from "werift";
import { formatFmtp, type SdpCodec } from "../offer-sdp.js";

/**
 * werift 0.24.4 workaround, docs/werift.md "Sections we do not send in".
 *
 * werift cannot reject a single media section (answer it with port 0) and
 * refuses the whole offer when any section has no codec it knows
 * (TransceiverManager.setRemoteRTP in packages/webrtc/src/
 * transceiverManager.ts throws "negotiate codecs failed."). An offer with
 * audio, or a second video section, would fail altogether. So each such section is narrowed to one codec (offer-plan.ts)
 * and that codec is declared to werift here; the transceiver werift makes
 * for it sends nothing and is answered inactive.
 */
export function declaredCodec(kind: "audio" | "video", codec: SdpCodec): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: `${kind}/${codec.name}`,
    clockRate: codec.clockRate,
    channels: codec.channels,
    payloadType: codec.payloadType,
    parameters: formatFmtp(codec) || undefined,
  });
}
