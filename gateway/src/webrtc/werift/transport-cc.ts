import {
  RtcpTransportLayerFeedback,
  TransportWideCC,
  type RTCDtlsTransport,
  type RTCPeerConnection,
  type RtcpPacket,
} from "werift";

/**
 * werift 0.24.4, docs/werift.md "transport-cc feedback" and "What we build
 * on" (sendRtp's transport-wide numbers).
 *
 * Feedback: werift parses transport-cc feedback (packages/rtp/src/rtcp/
 * rtpfb/twcc.ts) but its per-packet results skip status vector chunks
 * (most of what Chrome sends) and truncate each delta to whole
 * milliseconds; and it routes the message by its media SSRC, which Chrome
 * sets to the last SSRC it received (often our RTX one, which no sender is
 * registered under). So the feedback is read off the DTLS transports, put
 * back into bytes with werift's own serializer (byte-exact, see the
 * canary), and parsed by congestion/transport-feedback.ts.
 *
 * Sequence numbers: one counter per DTLS transport
 * (`transportSequenceNumber`; with BUNDLE, one per peer connection).
 * werift's RTCRtpSender.sendRtp takes the next number synchronously inside
 * track.writeRtp, i.e. when the pacer releases the packet; packets camgw
 * sends itself (RTX, padding) take theirs from the same counter here.
 */

/** Calls `onFeedback` with each transport-cc feedback message (bytes) any of the transports receives. */
export function onTransportFeedback(
  pc: RTCPeerConnection,
  onFeedback: (bytes: Buffer) => void,
): () => void {
  const subs = [...new Set(pc.dtlsTransports)].map((transport) =>
    transport.onRtcp.subscribe((packet: RtcpPacket) => {
      if (
        packet instanceof RtcpTransportLayerFeedback &&
        packet.feedback instanceof TransportWideCC
      ) {
        onFeedback(packet.serialize());
      }
    }),
  );
  return () => {
    for (const sub of subs.splice(0)) sub.unSubscribe();
  };
}

/** The transport-wide number werift gave the packet it sent last. */
export function lastTransportSequence(transport: RTCDtlsTransport): number {
  return transport.transportSequenceNumber;
}

/** Takes the next transport-wide number for a packet camgw sends itself. */
export function nextTransportSequence(transport: RTCDtlsTransport): number {
  transport.transportSequenceNumber = (transport.transportSequenceNumber + 1) & 0xffff;
  return transport.transportSequenceNumber;
}
