import { RtcpPacketConverter, type RTCRtpReceiver } from "werift";

/**
 * werift 0.24.4 workaround, docs/werift.md "Receiver transport-cc feedback"
 * (for camgw's own headless viewer: the probe and tests).
 *
 * werift's receiver writes transport-cc feedback itself once the codec has
 * the transport-cc feedback type (packages/webrtc/src/media/receiver/
 * receiverTwcc.ts), but wrongly for a sender's estimator: each message's
 * first delta is taken from the previous message's last arrival while its
 * reference time is that arrival rounded down to 64 ms (a sawtooth error of
 * up to 64 ms between messages), lost packets inside a run are reported
 * received, and arrival times come from a millisecond clock. So its slot
 * (`receiverTWCC`, which RTCRtpReceiver.handleRTP fills on the first packet
 * unless it is already set) is taken here before any packet arrives: werift
 * then hands camgw every packet's transport-wide sequence number, RTX and
 * padding included, and camgw's congestion/feedback-recorder.ts writes the
 * feedback.
 */
export function takeReceiverFeedback(
  receiver: RTCRtpReceiver,
  onPacket: (transportSequence: number) => void,
): () => void {
  const slot = {
    handleTWCC: (sequence: unknown): void => {
      if (typeof sequence === "number") onPacket(sequence);
    },
    // werift's receiver sets this to false when it stops.
    twccRunning: false,
  };
  Reflect.set(receiver, "receiverTWCC", slot);
  return () => {
    if (Reflect.get(receiver, "receiverTWCC") === slot)
      Reflect.set(receiver, "receiverTWCC", undefined);
  };
}

/** Sends RTCP bytes (one or more messages camgw wrote) on the receiver's transport. */
export function sendRtcpBytes(receiver: RTCRtpReceiver, bytes: Buffer): void {
  const packets = RtcpPacketConverter.deSerialize(bytes);
  receiver.dtlsTransport.sendRtcp(packets).catch(() => undefined);
}
