import {
  RtcpPacketConverter,
  RtcpPayloadSpecificFeedback,
  type RTCPeerConnection,
  type RTCRtpSender,
  type RtcpPacket,
} from "werift";

/**
 * werift 0.24.4 workarounds for FIR (RFC 5104 section 4.3.1), docs/werift.md
 * "FIR from the transport" and "FIR packets as bytes".
 *
 * FIR is payload-specific feedback with FMT 4 whose common header's media
 * SSRC is 0; the SSRC it asks a key frame of sits in the FCI:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P| FMT=4   |    PT=206     |          length=4             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC of packet sender                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC of media source (0)                     |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC (FCI: the stream asked for)             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    | Seq nr.       |    Reserved                                   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * werift routes payload-specific feedback by the header's sender or media
 * SSRC (RtpRouter.routeRtcp in packages/webrtc/src/media/router.ts), so a
 * conformant FIR never reaches the RTCRtpSender: it is read off the DTLS
 * transports instead. And werift parses FIR but does not export its
 * FullIntraRequest class, so a FIR to send is written as bytes and parsed
 * by werift into its own packet object.
 */

/** RFC 5104 section 4.3.1: the FMT of FIR in a payload-specific feedback packet. */
export const FIR_FMT = 4;

/**
 * Calls `onFir` for every FIR that asks `sender` for a key frame, from any
 * of the peer connection's DTLS transports. Subscribe after
 * setRemoteDescription: with BUNDLE werift may have moved the sender onto
 * the first section's transport. Returns the unsubscriber.
 */
export function onFullIntraRequest(
  pc: RTCPeerConnection,
  sender: RTCRtpSender,
  onFir: () => void,
): () => void {
  const subs = [...new Set(pc.dtlsTransports)].map((transport) =>
    transport.onRtcp.subscribe((packet: RtcpPacket) => {
      if (asksForKeyFrame(packet, sender.ssrc)) onFir();
    }),
  );
  return () => {
    for (const sub of subs.splice(0)) sub.unSubscribe();
  };
}

/**
 * True when `packet` is a FIR with an FCI entry for `ssrc`. Any RTCP a
 * viewer sends reaches this: werift 0.24.4 leaves `feedback` undefined
 * (though typed as always set) for payload-specific feedback of an FMT it
 * does not know (RtcpPayloadSpecificFeedback.deSerialize, packages/rtp/src/
 * rtcp/psfb/index.ts), so that is checked first (found by fuzzing,
 * docs/fuzzing.md).
 */
export function asksForKeyFrame(packet: RtcpPacket, ssrc: number): boolean {
  const feedback =
    packet instanceof RtcpPayloadSpecificFeedback
      ? (packet.feedback as typeof packet.feedback | undefined)
      : undefined;
  return (
    feedback !== undefined &&
    feedback.count === FIR_FMT &&
    "fir" in feedback &&
    feedback.fir.some((entry) => entry.ssrc === ssrc)
  );
}

/** A FIR (one FCI entry, the diagram above) as werift RTCP packets, ready for sendRtcp. */
export function fullIntraRequest(
  senderSsrc: number,
  targetSsrc: number,
  sequenceNumber: number,
): RtcpPacket[] {
  const out = Buffer.alloc(20);
  out[0] = 0x80 | FIR_FMT; // V=2, P=0, FMT=4
  out[1] = 206; // PT=PSFB
  out.writeUInt16BE(20 / 4 - 1, 2); // length in 32-bit words minus one
  out.writeUInt32BE(senderSsrc, 4);
  out.writeUInt32BE(0, 8); // media source SSRC: 0 for FIR
  out.writeUInt32BE(targetSsrc, 12);
  out[16] = sequenceNumber & 0xff;
  return RtcpPacketConverter.deSerialize(out);
}
