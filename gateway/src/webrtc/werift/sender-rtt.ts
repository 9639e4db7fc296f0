import type { RTCRtpSender } from "werift";

/**
 * werift 0.24.4, docs/werift.md "What we build on": an RTCRtpSender
 * measures the round trip to its receiver from the receiver reports' LSR and
 * DLSR (RFC 3550 section 6.4.1, appendix A.8) and keeps a smoothed value in
 * its private `rtt`, in seconds (handleRtcpPacket, rtpSender.ts); it is
 * undefined until the first report answers one of our sender reports.
 * Returns milliseconds, or undefined while there is no measurement.
 */
export function senderRoundTripMs(sender: RTCRtpSender): number | undefined {
  const rtt: unknown = Reflect.get(sender, "rtt");
  return typeof rtt === "number" && Number.isFinite(rtt) && rtt >= 0 ? rtt * 1000 : undefined;
}
