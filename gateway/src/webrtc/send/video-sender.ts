import { EventEmitter } from "node:events";
import {
  MediaStreamTrack,
  RTCRtpCodecParameters,
  useAbsSendTime,
  useFIR,
  useNACK,
  usePLI,
  useSdesMid,
  type MediaStream,
  type RTCPeerConnection,
  type RTCRtpHeaderExtensionParameters,
  type RTCRtpSender,
} from "werift";
import type { PacketHistory } from "../../rtp/packet-history.js";
import type { PacketizedFrame } from "../../rtp/packetizer.js";
import { formatFmtp, type SdpCodec } from "../offer-sdp.js";
import { onFullIntraRequest } from "../werift/fir.js";
import { setSenderReportTime } from "../werift/sender-report.js";
import { NackResponder, type NackStats } from "./nack-responder.js";

/**
 * One viewer's H.264 video: its own werift track and RTCRtpSender (werift
 * mutates the RtpPacket it parses per sender, so tracks are never shared),
 * fed the stream's shared, immutable PacketizedFrames. It holds frames back
 * until the first key frame, stamps the sender report with the capture
 * time, answers NACKs, and turns PLI/FIR into key frame requests.
 *
 * The peer connection around it (ICE, DTLS, candidates, liveness) is the
 * ViewerSession's; a pacer, RTX or transport-wide sequence numbers would
 * sit between the fan-out and this class (as a FrameSink) or replace it,
 * and an audio sender would sit beside it in the same session.
 */

export type KeyFrameRequestKind = "join" | "pli" | "fir";

/** What a stream fan-out feeds: one viewer's sender of the stream's packetized frames. */
export interface FrameSink {
  send(frame: PacketizedFrame): void;
}

export interface VideoSenderEvents {
  /** This viewer needs an IDR: it just joined ("join") or asked (PLI, FIR). */
  keyFrameRequest: [KeyFrameRequestKind];
}

export interface VideoSenderStats extends NackStats {
  packetsSent: number;
  bytesSent: number;
  framesSent: number;
  pliReceived: number;
  firReceived: number;
}

/** The werift codec we send the stream with: the offered H.264 variant, with NACK, PLI and FIR. */
export function h264SendCodec(codec: SdpCodec): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90_000,
    rtcpFeedback: [useNACK(), usePLI(), useFIR()],
    parameters: formatFmtp(codec),
  });
}

/** RTP header extensions offered for video (RFC 8843 sdes:mid; abs-send-time for the receiver's BWE). */
export function videoHeaderExtensions(): RTCRtpHeaderExtensionParameters[] {
  return [useSdesMid(), useAbsSendTime()];
}

export class VideoSender extends EventEmitter<VideoSenderEvents> implements FrameSink {
  private readonly counters = {
    packetsSent: 0,
    bytesSent: 0,
    framesSent: 0,
    pliReceived: 0,
    firReceived: 0,
  };
  private readonly nacks: NackResponder;
  private readonly track = new MediaStreamTrack({ kind: "video" });
  private sender: RTCRtpSender | undefined;
  private readonly unsubscribers: (() => void)[] = [];
  private sending = false;
  private needKeyFrame = true;
  private closed = false;

  constructor(history: PacketHistory) {
    super();
    this.nacks = new NackResponder(history);
  }

  get stats(): VideoSenderStats {
    return { ...this.counters, ...this.nacks.stats };
  }

  /**
   * Adds the send-only video transceiver to `pc` (before setRemoteDescription),
   * in `stream` when given (a=msid: a browser lip-syncs only the tracks of one stream).
   */
  addTo(pc: RTCPeerConnection, stream?: MediaStream): void {
    if (this.sender) throw new Error("VideoSender.addTo called twice");
    const streams = stream ? { streams: [stream] } : {};
    const sender = pc.addTransceiver(this.track, { direction: "sendonly", ...streams }).sender;
    this.sender = sender;
    const subs = [
      sender.onPictureLossIndication.subscribe(() => {
        this.counters.pliReceived++;
        this.emit("keyFrameRequest", "pli");
      }),
      sender.onGenericNack.subscribe((nack) => this.nacks.handle(sender, nack)),
    ];
    for (const sub of subs) this.unsubscribers.push(() => sub.unSubscribe());
  }

  /** The offer is applied and the transports are final (BUNDLE): listen for FIR on them. */
  transportsReady(pc: RTCPeerConnection): void {
    const sender = this.sender;
    if (!sender || this.closed) return;
    this.unsubscribers.push(
      onFullIntraRequest(pc, sender, () => {
        this.counters.firReceived++;
        this.emit("keyFrameRequest", "fir");
      }),
    );
  }

  /** DTLS is up: send from the next key frame on, and ask for one now. */
  start(): void {
    if (this.closed || this.sending) return;
    this.sending = true;
    this.emit("keyFrameRequest", "join");
  }

  /** Sends one packetized frame (shared Buffers; werift re-parses them per sender). */
  send(frame: PacketizedFrame): void {
    const sender = this.sender;
    if (!this.sending || !sender) return;
    if (this.needKeyFrame) {
      // Frames before the first IDR reference pictures this viewer never got.
      if (!frame.keyframe) return;
      this.needKeyFrame = false;
    }
    for (const packet of frame.packets) {
      this.track.writeRtp(packet);
      this.counters.bytesSent += packet.length;
    }
    setSenderReportTime(sender, frame.captureTimeUs);
    this.counters.packetsSent += frame.packets.length;
    this.counters.framesSent++;
    this.nacks.sent(frame.firstSequence, frame.packets.length);
  }

  /** Stops sending and drops the subscriptions (idempotent); the peer connection is the session's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sending = false;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.track.stop();
    this.sender = undefined;
    this.removeAllListeners();
  }
}
