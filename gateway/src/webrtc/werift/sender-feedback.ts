import {
  GenericNack,
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  RtcpRrPacket,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
  type RTCRtpSender,
  type RtcpPacket,
} from "werift";

/**
 * werift 0.24.4 workaround, docs/werift.md "NACKs taken from werift".
 *
 * RTCRtpSender.handleRtcpPacket (packages/webrtc/src/media/rtpSender.ts)
 * answers every generic NACK itself from its last 128 packets, every time
 * a NACK lists them, with no bound on rate or repeats (the 25,566
 * resends in 12 s into a 400 kbit/s link), and as RTX with the sequence
 * number it cached, so the resend carries the transport-wide number of
 * the original. NACKs must go to camgw's responder alone
 * (send/nack-responder.ts), so the sender's handleRtcpPacket is replaced
 * on this instance (the RtpRouter calls it as a method): NACKs are taken,
 * everything else still reaches werift, and receiver reports and REMB are
 * also handed to camgw's estimator.
 */

export interface ReportBlock {
  /** 0..1 (RFC 3550 section 6.4.1: fraction lost / 256). */
  readonly fractionLost: number;
  readonly packetsLost: number;
  readonly highestSequence: number;
  /** Middle 32 bits of the NTP time of our last sender report (0: none yet). */
  readonly lastSenderReport: number;
  /** Delay since that report, 1/65536 s. */
  readonly delaySinceLastSenderReport: number;
}

export interface SenderFeedback {
  nack(lost: readonly number[]): void;
  receiverReport(block: ReportBlock): void;
  remb(bps: number): void;
}

export function takeSenderFeedback(sender: RTCRtpSender, handlers: SenderFeedback): () => void {
  const original = sender.handleRtcpPacket.bind(sender);
  const replacement = (packet: RtcpPacket): void => {
    if (packet instanceof RtcpTransportLayerFeedback && packet.feedback instanceof GenericNack) {
      handlers.nack(packet.feedback.lost);
      return;
    }
    original(packet);
    if (packet instanceof RtcpRrPacket || packet instanceof RtcpSrPacket) {
      for (const report of packet.reports) {
        if (report.ssrc !== sender.ssrc) continue;
        handlers.receiverReport({
          fractionLost: report.fractionLost / 256,
          packetsLost: report.packetsLost,
          highestSequence: report.highestSequence,
          lastSenderReport: report.lsr,
          delaySinceLastSenderReport: report.dlsr,
        });
      }
    } else if (
      packet instanceof RtcpPayloadSpecificFeedback &&
      packet.feedback instanceof ReceiverEstimatedMaxBitrate
    ) {
      handlers.remb(Number(packet.feedback.bitrate));
    }
  };
  sender.handleRtcpPacket = replacement;
  return () => {
    if (sender.handleRtcpPacket === replacement) Reflect.deleteProperty(sender, "handleRtcpPacket");
  };
}
