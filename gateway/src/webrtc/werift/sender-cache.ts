/**
 * werift 0.24.4 fact we build on, docs/werift.md "Sender NACK cache".
 *
 * RTCRtpSender answers generic NACKs itself, but only from the last 128
 * packets it sent (RTP_HISTORY_SIZE in packages/webrtc/src/media/
 * rtpSender.ts, not exported): ~0.6 s at 2 Mbit/s. send/nack-responder.ts
 * answers older ones from the stream's history and must know where
 * werift's cache ends, or a packet is resent twice or not at all.
 */
export const WERIFT_RTP_CACHE = 128;
