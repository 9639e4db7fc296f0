import {
  MediaStreamTrack,
  RTCRtpCodecParameters,
  type MediaStream,
  type RTCPeerConnection,
  type RTCRtpTransceiver,
} from "werift";
import type { PacketizedFrame } from "../../rtp/packetizer.js";
import { OPUS_CLOCK_RATE } from "../../rtp/opus-payloader.js";
import type { SdpCodec } from "../offer-sdp.js";
import { stampSenderReports } from "../werift/sender-report.js";
import type { FrameSink } from "./video-sender.js";

/**
 * One viewer's audio section: its own werift track and transceiver (werift
 * rewrites the RtpPacket it parses per sender, so tracks are never shared),
 * fed the microphone's shared, immutable Opus packets when the viewer
 * listens. The same transceiver receives the viewer's talk-back when the
 * section is sendrecv (receive/talk-receiver.ts reads its receiver).
 *
 * Lip sync: the RTP timestamp is the capture time on the 48 kHz clock
 * (audio-fanout.ts) and each sender report pairs the wall clock of its
 * sending with the RTP timestamp of that instant on the capture clock
 * (werift/sender-report.ts), exactly as for video, so a browser maps both
 * streams onto one clock (RFC 3550 section 6.4.1). The browser syncs
 * only tracks of one MediaStream (same a=msid stream id), which the
 * session gives both senders.
 */

export interface AudioSenderStats {
  packetsSent: number;
  bytesSent: number;
}

/**
 * The Opus codec we answer with: the offered payload type, 48000/2 (RFC
 * 7587 section 7: always so, whatever is sent), in-band FEC both ways (our
 * encoder makes it, our decoder uses it), mono.
 */
export function opusCodec(offered: SdpCodec): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "audio/opus",
    clockRate: OPUS_CLOCK_RATE,
    channels: 2,
    payloadType: offered.payloadType,
    parameters: "minptime=10;useinbandfec=1",
  });
}

export class AudioSender implements FrameSink {
  private readonly track = new MediaStreamTrack({ kind: "audio" });
  private transceiverRef: RTCRtpTransceiver | undefined;
  private readonly counters: AudioSenderStats = { packetsSent: 0, bytesSent: 0 };
  private sending = false;
  private closed = false;
  private lastFrame: { timestamp: number; captureTimeUs: number } | undefined;
  private unstampReports: (() => void) | undefined;

  get stats(): AudioSenderStats {
    return { ...this.counters };
  }

  get transceiver(): RTCRtpTransceiver | undefined {
    return this.transceiverRef;
  }

  /**
   * Adds the audio transceiver to `pc` (before setRemoteDescription) with
   * what we do in the section: "sendonly" (the viewer listens), "recvonly"
   * (it talks), "sendrecv" (both).
   */
  addTo(
    pc: RTCPeerConnection,
    direction: "sendonly" | "recvonly" | "sendrecv",
    stream: MediaStream,
  ): RTCRtpTransceiver {
    if (this.transceiverRef) throw new Error("AudioSender.addTo called twice");
    this.transceiverRef = pc.addTransceiver(this.track, { direction, streams: [stream] });
    return this.transceiverRef;
  }

  /** DTLS is up (or was, for a section added by renegotiation): send from now on. */
  start(): void {
    if (!this.closed) this.sending = true;
  }

  send(frame: PacketizedFrame): void {
    const sender = this.transceiverRef?.sender;
    if (!this.sending || !sender) return;
    for (const packet of frame.packets) {
      this.track.writeRtp(packet);
      this.counters.bytesSent += packet.length;
    }
    this.lastFrame = { timestamp: frame.timestamp, captureTimeUs: frame.captureTimeUs };
    // Installed at the first packet: by then the sender's (bundled) DTLS
    // transport is final, also for a section a renegotiation added.
    this.unstampReports ??= stampSenderReports(sender, {
      rtpTimestampAt: (unixUs) => {
        const f = this.lastFrame;
        if (!f) return undefined;
        return (
          (f.timestamp + Math.round(((unixUs - f.captureTimeUs) * OPUS_CLOCK_RATE) / 1_000_000)) >>>
          0
        );
      },
      sent: () => undefined,
    });
    this.counters.packetsSent += frame.packets.length;
  }

  /** Stops sending (idempotent); the peer connection is the session's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sending = false;
    this.unstampReports?.();
    this.unstampReports = undefined;
    this.track.stop();
    this.transceiverRef = undefined;
  }
}
