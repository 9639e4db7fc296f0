import { RTCRtpHeaderExtensionParameters, type RTCRtpSender } from "werift";
import { URI } from "../send/rtp-extensions.js";

/**
 * werift 0.24.4, docs/werift.md "What we build on" (header extensions) and
 * "abs-send-time".
 *
 * werift answers with the offer's extensions whose URI it was configured
 * with (TransceiverManager.setRemoteRTP), under the offer's IDs. Its
 * RTCRtpSender.sendRtp then writes sdes:mid, the transport-wide sequence
 * number (from its DTLS transport's counter, at the moment the packet is
 * sent) and abs-send-time (wrongly: docs/werift.md "abs-send-time"), and
 * keeps every extension already on the packet it is given, overwriting its
 * own value where the IDs match. So camgw declares the URIs here, writes
 * abs-send-time, playout-delay and abs-capture-time on the packets itself
 * (send/rtp-extensions.ts), and leaves mid and the transport-wide number to
 * werift.
 */

/** The video header extensions camgw negotiates, in the order it prefers them. */
export function videoHeaderExtensions(): RTCRtpHeaderExtensionParameters[] {
  return [URI.sdesMid, URI.absSendTime, URI.transportCc, URI.playoutDelay, URI.absCaptureTime].map(
    (uri) => new RTCRtpHeaderExtensionParameters({ uri }),
  );
}

export interface NegotiatedExtensions {
  /** This section's mid value (what sdes:mid carries). */
  readonly midValue: string | undefined;
  readonly mid: number | undefined;
  readonly absSendTime: number | undefined;
  readonly transportCc: number | undefined;
  readonly playoutDelay: number | undefined;
  readonly absCaptureTime: number | undefined;
}

/**
 * The IDs the answer gave each extension (call after setRemoteDescription;
 * `headerExtensions` and `mid` are private in werift's typings, set by
 * RTCRtpSender.prepareSend).
 */
export function negotiatedExtensions(sender: RTCRtpSender): NegotiatedExtensions {
  const list: unknown = Reflect.get(sender, "headerExtensions");
  const extensions = Array.isArray(list) ? (list as RTCRtpHeaderExtensionParameters[]) : [];
  const id = (uri: string): number | undefined => extensions.find((e) => e.uri === uri)?.id;
  const mid: unknown = Reflect.get(sender, "mid");
  return {
    midValue: typeof mid === "string" ? mid : undefined,
    mid: id(URI.sdesMid),
    absSendTime: id(URI.absSendTime),
    transportCc: id(URI.transportCc),
    playoutDelay: id(URI.playoutDelay),
    absCaptureTime: id(URI.absCaptureTime),
  };
}
