import type { RTCRtpSender } from "werift";
import { ntpFromUnixUs } from "../../rtp/ntp.js";

/**
 * werift 0.24.4 workaround, docs/werift.md "Sender report NTP time".
 *
 * RFC 3550 section 6.4.1 wants a sender report's NTP timestamp to be the
 * wall-clock time of the same instant as its RTP timestamp; our RTP
 * timestamps are capture times (rtp/packetizer.ts), so the NTP time must be
 * the capture time too, or a receiver's lip sync and capture-to-glass
 * figures are off by the encode and queueing time. werift has no way to
 * say so: RTCRtpSender.sendRtp (packages/webrtc/src/media/rtpSender.ts)
 * stamps its private `ntpTimestamp` with the send time, and its ntpTime()
 * (packages/webrtc/src/utils.ts) writes the decimal digits of the seconds'
 * fraction as the binary fraction. sendRtp sets the field synchronously
 * inside track.writeRtp, and the next sender report reads it, so we
 * overwrite it right after writing a frame's packets.
 */
export function setSenderReportTime(sender: RTCRtpSender, captureTimeUs: number): void {
  Reflect.set(sender, "ntpTimestamp", ntpFromUnixUs(captureTimeUs));
}
