import { EventEmitter } from "node:events";
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpPayloadSpecificFeedback,
  useAbsSendTime,
  useFIR,
  useNACK,
  usePLI,
  useSdesMid,
  type RTCRtpSender,
  type RtcpPacket,
} from "werift";
import type { PacketHistory } from "../rtp/packet-history.js";
import type { PacketizedFrame } from "../rtp/packetizer.js";
import type { ByeReason, IceCandidate } from "../signaling/session-host.js";
import { NackResponder, type NackStats } from "./nack-responder.js";
import { ntpFromUnixUs } from "./ntp.js";
import { replayEarlyDtls } from "./early-dtls.js";
import {
  clearDefaultStunServer,
  weriftCandidate,
  weriftIceOptions,
  type IceConfig,
} from "./ice-config.js";
import type { SdpCodec } from "./offer-sdp.js";

/**
 * One viewer: one werift RTCPeerConnection with its own send-only H.264
 * track. The session manager feeds it shared, immutable RTP packets; this
 * class turns RTCP feedback into key frame requests and retransmissions and
 * tracks whether the viewer is still there.
 */

export type KeyFrameRequestKind = "join" | "pli" | "fir";

export interface ViewerSessionEvents {
  /** A local candidate to trickle; null once gathering is complete. */
  candidate: [IceCandidate | null];
  /** DTLS is up: media can flow. */
  connected: [];
  keyFrameRequest: [KeyFrameRequestKind];
  /** The session ended by itself (never emitted for close()). */
  ended: [ByeReason];
}

export interface ViewerSessionStats extends NackStats {
  packetsSent: number;
  bytesSent: number;
  framesSent: number;
  pliReceived: number;
  firReceived: number;
}

/** A media section of the offer other than the one we send H.264 in (answered inactive). */
export interface OtherSection {
  kind: "audio" | "video";
  codec: SdpCodec;
}

const fmtpOf = (codec: SdpCodec): string =>
  [...codec.parameters].map(([k, v]) => `${k}=${v}`).join(";");

/** A codec declared only so werift accepts a section we never send in. */
function declared(kind: "audio" | "video", codec: SdpCodec): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: `${kind}/${codec.name}`,
    clockRate: codec.clockRate,
    channels: codec.channels,
    payloadType: codec.payloadType,
    parameters: fmtpOf(codec) || undefined,
  });
}

export interface ViewerSessionOptions {
  viewerId: string;
  session: string;
  history: PacketHistory;
  ice: IceConfig;
  /**
   * DTLS role to take when the offer leaves it open (actpass): "server"
   * (default, answer setup:passive) or "client" (werift's own choice).
   */
  dtlsRole?: "server" | "client";
}

/**
 * RFC 5104 section 4.3.1: FIR is payload-specific feedback with FMT 4.
 * werift parses it but does not export its FullIntraRequest class.
 */
const FIR_FMT = 4;

export class ViewerSession extends EventEmitter<ViewerSessionEvents> {
  readonly viewerId: string;
  readonly session: string;
  private readonly counters = {
    packetsSent: 0,
    bytesSent: 0,
    framesSent: 0,
    pliReceived: 0,
    firReceived: 0,
  };
  state: "new" | "negotiating" | "connected" | "closed" = "new";

  private readonly nacks: NackResponder;
  private readonly ice: IceConfig;
  private readonly dtlsRole: "server" | "client";
  private pc: RTCPeerConnection | undefined;
  private track: MediaStreamTrack | undefined;
  private sender: RTCRtpSender | undefined;
  private readonly unsubscribers: (() => void)[] = [];
  private remoteDescriptionSet = false;
  private gathering: Promise<void> | undefined;
  private readonly pendingCandidates: (IceCandidate | null)[] = [];
  /** Local candidates are held until the answer has gone out (spec: trickle after the answer). */
  private answerReleased = false;
  private readonly heldCandidates: (IceCandidate | null)[] = [];
  private needKeyFrame = true;
  private received = 0;
  private lastActivityCount = -1;
  private lastActivityAt: number;

  constructor(options: ViewerSessionOptions) {
    super();
    this.viewerId = options.viewerId;
    this.session = options.session;
    this.nacks = new NackResponder(options.history);
    this.ice = options.ice;
    this.dtlsRole = options.dtlsRole ?? "server";
    this.lastActivityAt = performance.now();
  }

  get stats(): ViewerSessionStats {
    return { ...this.counters, ...this.nacks.stats };
  }

  /**
   * Applies the (already narrowed) offer and resolves with the answer SDP as
   * soon as werift has made it. Gathering runs on afterwards and local
   * candidates trickle through `candidate` once releaseCandidates() is called.
   */
  async answer(
    offerSdp: string,
    codec: SdpCodec,
    otherSections: readonly OtherSection[] = [],
  ): Promise<string> {
    if (this.state !== "new") throw new Error("ViewerSession.answer called twice");
    this.state = "negotiating";
    const pc = new RTCPeerConnection({
      ...weriftIceOptions(this.ice),
      codecs: {
        audio: otherSections
          .filter((o) => o.kind === "audio")
          .map((o) => declared("audio", o.codec)),
        video: [
          new RTCRtpCodecParameters({
            mimeType: "video/H264",
            clockRate: 90_000,
            rtcpFeedback: [useNACK(), usePLI(), useFIR()],
            parameters: fmtpOf(codec),
          }),
          ...otherSections.filter((o) => o.kind === "video").map((o) => declared("video", o.codec)),
        ],
      },
      headerExtensions: { audio: [], video: [useSdesMid(), useAbsSendTime()] },
      // Reply to every STUN request (what werift does without the hook); a
      // request is the viewer's consent check (RFC 7675), i.e. a sign of life.
      iceFilterStunResponse: () => {
        this.received++;
        return true;
      },
    });
    this.pc = pc;
    const track = new MediaStreamTrack({ kind: "video" });
    this.track = track;
    const sender = pc.addTransceiver(track, { direction: "sendonly" }).sender;
    this.sender = sender;
    clearDefaultStunServer(pc, this.ice);
    this.wire(pc, sender);

    await pc.setRemoteDescription({ type: "offer", sdp: offerSdp });
    if (this.isClosed()) throw new Error("session closed during negotiation");
    clearDefaultStunServer(pc, this.ice);
    // Subscribed after setRemoteDescription: with BUNDLE werift may have
    // moved our transceiver onto the first section's transport.
    for (const transport of pc.iceTransports) {
      const sub = transport.connection.onData.subscribe(() => {
        this.received++;
      });
      this.unsubscribers.push(() => sub.unSubscribe());
    }
    for (const transport of new Set(pc.dtlsTransports)) {
      const sub = transport.onRtcp.subscribe((packet) => this.onRtcp(sender, packet));
      this.unsubscribers.push(() => sub.unSubscribe());
    }
    this.unsubscribers.push(replayEarlyDtls(pc));
    this.remoteDescriptionSet = true;
    for (const candidate of this.pendingCandidates.splice(0)) this.applyCandidate(candidate);

    const created = await pc.createAnswer();
    if (this.isClosed()) throw new Error("session closed during negotiation");
    const answer = { type: created.type, sdp: this.chooseDtlsRole(offerSdp, created.sdp) };
    // Not awaited: werift's setLocalDescription waits for gathering to
    // finish before it starts ICE checks; the answer text is final already.
    this.gathering = pc.setLocalDescription(answer).then(
      () => undefined,
      () => this.end("ice-failed"),
    );
    return answer.sdp;
  }

  /**
   * werift 0.24.4 quirk: as DTLS client, RTCDtlsTransport.start() sleeps
   * 100 ms before its ClientHello (`await setTimeout(100)` in
   * packages/webrtc/src/transport/dtls.ts), which werift's own answer
   * (a=setup:active) puts on every viewer's time to first frame. Answering
   * a=setup:passive to an actpass offer (RFC 5763 section 5 allows either)
   * makes the viewer the client; a browser sends its ClientHello at once.
   * RFC 5763 recommends active to overlap DTLS with the answer's delivery,
   * but with ICE the handshake cannot start before connectivity checks,
   * which need the answer anyway, so passive costs nothing here.
   */
  private chooseDtlsRole(offerSdp: string, answerSdp: string): string {
    if (this.dtlsRole !== "server" || !/^a=setup:actpass\s*$/m.test(offerSdp)) return answerSdp;
    return answerSdp.replace(/^a=setup:active(\r?)$/gm, "a=setup:passive$1");
  }

  /** Lets held local candidates go out (call once the answer was handed over). */
  releaseCandidates(): void {
    if (this.answerReleased) return;
    this.answerReleased = true;
    for (const c of this.heldCandidates.splice(0)) this.emit("candidate", c);
  }

  /**
   * Adds a viewer candidate without waiting: werift resolves an mDNS
   * `.local` candidate for up to 10 s, and nothing may wait on that.
   */
  addRemoteCandidate(candidate: IceCandidate | null): void {
    if (this.isClosed()) return;
    if (!this.remoteDescriptionSet) {
      this.pendingCandidates.push(candidate);
      return;
    }
    this.applyCandidate(candidate);
  }

  /** Sends one packetized frame (shared Buffers; werift re-parses them per sender). */
  sendFrame(frame: PacketizedFrame): void {
    const { track, sender } = this;
    if (this.state !== "connected" || !track || !sender) return;
    if (this.needKeyFrame) {
      // Frames before the first IDR reference pictures this viewer never got.
      if (!frame.keyframe) return;
      this.needKeyFrame = false;
    }
    for (const packet of frame.packets) {
      track.writeRtp(packet);
      this.counters.bytesSent += packet.length;
    }
    // werift stamps its sender report with the send time (and its ntpTime()
    // writes the decimal digits of the fraction as the binary fraction, see
    // packages/webrtc/src/utils.ts); RFC 3550 section 6.4.1 wants the NTP
    // time of the same instant as the RTP timestamp: the capture time.
    // sendRtp set the field synchronously inside writeRtp, so overwrite it.
    Reflect.set(sender, "ntpTimestamp", ntpFromUnixUs(frame.captureTimeUs));
    this.counters.packetsSent += frame.packets.length;
    this.counters.framesSent++;
    this.nacks.sent(frame.firstSequence, frame.packets.length);
  }

  /**
   * Records activity (any STUN request, DTLS/SRTCP packet or consent
   * response from the viewer) and reports whether the viewer has been
   * silent for longer than `timeoutMs`.
   */
  isSilentFor(timeoutMs: number, now = performance.now()): boolean {
    let count = this.received;
    for (const transport of this.pc?.iceTransports ?? []) {
      count += transport.connection.nominated?.responsesReceived ?? 0;
    }
    if (count !== this.lastActivityCount) {
      this.lastActivityCount = count;
      this.lastActivityAt = now;
      return false;
    }
    return now - this.lastActivityAt > timeoutMs;
  }

  /** Ends the session by itself: emits `ended` once, then frees everything. */
  end(reason: ByeReason): void {
    if (this.isClosed()) return;
    this.emit("ended", reason);
    void this.close();
  }

  /** Frees everything (idempotent); emits nothing. */
  async close(): Promise<void> {
    if (this.isClosed()) return;
    this.state = "closed";
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.pendingCandidates.length = 0;
    this.heldCandidates.length = 0;
    this.track?.stop();
    const pc = this.pc;
    this.pc = undefined;
    this.track = undefined;
    this.sender = undefined;
    this.removeAllListeners();
    // werift quirk: RTCPeerConnection.close() during gathering closes the
    // sockets bound so far, and gathering then binds the rest and leaks
    // them (packages/ice/src/ice.ts: Connection.close empties `protocols`,
    // getCandidatePromises pushes to it afterwards). Let gathering finish.
    await this.gathering;
    await pc?.close().catch(() => undefined);
  }

  private isClosed(): boolean {
    return this.state === "closed";
  }

  private applyCandidate(candidate: IceCandidate | null): void {
    const pc = this.pc;
    if (!pc) return;
    const init = weriftCandidate(candidate);
    // A candidate werift cannot parse or resolve is the viewer's problem; the
    // others still connect, and the liveness timeout ends a session that can't.
    pc.addIceCandidate(init).catch(() => undefined);
  }

  private emitCandidate(candidate: IceCandidate | null): void {
    if (this.isClosed()) return;
    if (this.answerReleased) this.emit("candidate", candidate);
    else this.heldCandidates.push(candidate);
  }

  private wire(pc: RTCPeerConnection, sender: RTCRtpSender): void {
    let gatheringDone = false;
    const subs = [
      pc.onIceCandidate.subscribe((candidate) => {
        if (candidate?.candidate) {
          this.emitCandidate({
            candidate: candidate.candidate,
            sdpMid: candidate.sdpMid ?? null,
            sdpMLineIndex: candidate.sdpMLineIndex ?? null,
          });
        }
      }),
      pc.iceGatheringStateChange.subscribe((state) => {
        if (state === "complete" && !gatheringDone) {
          gatheringDone = true;
          this.emitCandidate(null);
        }
      }),
      pc.iceConnectionStateChange.subscribe((state) => {
        if (state === "failed") this.end("ice-failed");
      }),
      pc.connectionStateChange.subscribe((state) => {
        if (state === "connected" && this.state === "negotiating") {
          this.state = "connected";
          this.emit("connected");
          this.emit("keyFrameRequest", "join");
        } else if (state === "failed" || state === "closed") {
          this.end("ice-failed");
        }
      }),
      sender.onPictureLossIndication.subscribe(() => {
        this.counters.pliReceived++;
        this.emit("keyFrameRequest", "pli");
      }),
      sender.onGenericNack.subscribe((nack) => this.nacks.handle(sender, nack)),
    ];
    for (const sub of subs) this.unsubscribers.push(() => sub.unSubscribe());
  }

  /**
   * FIR (RFC 5104 section 4.3.1) is read off the transport, not the sender:
   * its common header's media SSRC is 0 and the target SSRC sits in the FCI,
   * but werift 0.24.4 routes payload-specific feedback by the header's
   * sender or media SSRC (RtpRouter.routeRtcp in
   * packages/webrtc/src/media/router.ts), so a conformant FIR never reaches
   * the RTCRtpSender.
   */
  private onRtcp(sender: RTCRtpSender, packet: RtcpPacket): void {
    if (
      packet instanceof RtcpPayloadSpecificFeedback &&
      packet.feedback.count === FIR_FMT &&
      "fir" in packet.feedback &&
      packet.feedback.fir.some((entry) => entry.ssrc === sender.ssrc)
    ) {
      this.counters.firReceived++;
      this.emit("keyFrameRequest", "fir");
    }
  }
}
