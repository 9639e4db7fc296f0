import { RtcpSrPacket, type RTCRtpSender, type RtcpPacket } from "werift";
import { ntpFromUnixUs } from "../../rtp/ntp.js";

/**
 * werift 0.24.4 workaround, docs/werift.md "Sender report NTP time".
 *
 * RFC 3550 section 6.4.1: a sender report's NTP timestamp is the wallclock
 * time at which it is sent, and its RTP timestamp "corresponds to the same
 * time", extrapolated on the media clock. werift's RTCRtpSender fills both
 * from the last packet it sent (packages/webrtc/src/media/rtpSender.ts,
 * runRtcp): the NTP time of that send (with the decimal digits of the
 * seconds' fraction written as a binary fraction, utils.ts ntpTime()) and
 * the packet's RTP timestamp, which is a capture time. A receiver that maps
 * RTP to wallclock with that pair (lip sync, Chrome's capture-time and
 * clock-offset estimates) is off by the encode and queueing time, and by up
 * to 100 % of the fraction.
 *
 * The report is rewritten on its way out instead: the DTLS transport's
 * sendRtcp is wrapped on this instance, and a report of our SSRC gets
 * NTP = now (the wall clock) and RTP = the RTP timestamp of now on the
 * stream's capture clock (rtp/packetizer.ts derives RTP timestamps from capture times, so the
 * stream's latest frame gives the mapping). `sent` hears the compact NTP of
 * each report, for the RTT a receiver report's LSR/DLSR then gives.
 */

export interface SenderReportClock {
  /** The RTP timestamp of a wallclock instant (µs since the Unix epoch), or undefined before the first frame. */
  rtpTimestampAt(unixUs: number): number | undefined;
  /** A report with this compact NTP time (middle 32 bits) left now. */
  sent(compactNtp: number): void;
}

/**
 * The wallclock of the report: CLOCK_REALTIME, the clock camgw's capture
 * times are on (native/src/encoded_frame.h). Not performance.timeOrigin +
 * performance.now(): that runs on the monotonic clock from the process's
 * start and drifts from the wall clock as NTP adjusts it (over 100 ms seen
 * on a busy machine within minutes).
 */
const nowUnixUs = (): number => Date.now() * 1000;

export function stampSenderReports(sender: RTCRtpSender, clock: SenderReportClock): () => void {
  const transport = sender.dtlsTransport;
  const original = transport.sendRtcp.bind(transport);
  const replacement = (packets: RtcpPacket[]): Promise<number | undefined> => {
    for (const packet of packets) {
      if (!(packet instanceof RtcpSrPacket) || packet.ssrc !== sender.ssrc) continue;
      const unixUs = nowUnixUs();
      const rtp = clock.rtpTimestampAt(unixUs);
      if (rtp === undefined) continue;
      const ntp = ntpFromUnixUs(unixUs);
      packet.senderInfo.ntpTimestamp = ntp;
      packet.senderInfo.rtpTimestamp = rtp;
      clock.sent(Number((ntp >> 16n) & 0xffff_ffffn));
    }
    return original(packets);
  };
  transport.sendRtcp = replacement;
  // The audio and the video sender of a session share one (bundled) DTLS
  // transport: each wraps what it found, and unwrapping puts that back.
  return () => {
    if (transport.sendRtcp === replacement) transport.sendRtcp = original;
  };
}
