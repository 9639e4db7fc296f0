import { EventEmitter } from "node:events";
import {
  GenericNack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
  useNACK,
  usePLI,
  useREMB,
  useTWCC,
  type MediaStreamTrack,
  type RTCRtpTransceiver,
  type RtpPacket,
} from "werift";
import { FeedbackRecorder } from "../../congestion/feedback-recorder.js";
import type { IceCandidate } from "../../signaling/session-host.js";
import {
  weriftCandidate,
  weriftIceOptions,
  type IceConfig,
  type IceServer,
} from "../ice-config.js";
import { readAbsCaptureTime, readPlayoutDelay, URI } from "../send/rtp-extensions.js";
import { clearDefaultStunServer } from "../werift/default-stun.js";
import { fullIntraRequest } from "../werift/fir.js";
import { videoHeaderExtensions } from "../werift/header-extensions.js";
import { startRestartedIce } from "../werift/ice-restart-start.js";
import { setIceServersBeforeGathering } from "../werift/ice-servers.js";
import { sendRtcpBytes, takeReceiverFeedback } from "../werift/receiver-feedback.js";
import { silenceReceiverNacks } from "../werift/receiver-nacks.js";
import { selectedPair, type SelectedPair } from "../werift/selected-pair.js";
import { FrameAssembler, type ReceivedFrame } from "./frame-assembler.js";
import { MdnsCandidates } from "./mdns-candidates.js";
import { NackRequester } from "./nack-requester.js";

/**
 * A viewer without a browser, for `camgw probe` and tests: a werift peer
 * that offers to receive H.264 (packetization-mode=1) with RTX, transport-cc,
 * playout-delay and abs-capture-time as Chrome does, applies the answer and
 * trickled candidates, turns received RTP back into access units (each with
 * its capture time), and sends the feedback a browser would (PLI, FIR,
 * NACK, transport-cc). The receiving counterpart of the gateway's
 * ViewerSession.
 */

export type { ReceivedFrame } from "./frame-assembler.js";

export interface HeadlessViewerOptions {
  ice?: IceConfig;
  /**
   * How long a missing packet is waited for before the frame is dropped and
   * a key frame asked for (default 1000 ms: as long as the NACKs go on, 10
   * at 100 ms; a browser waits 3 s for a decodable frame, libwebrtc's
   * kMaxWaitForFrame). A complete key frame after the gap ends the wait.
   */
  maxWaitMs?: number;
  /** Repeat the PLI this often while waiting for a key frame (default 1000 ms). */
  keyFrameRetryMs?: number;
  /**
   * Simulated loss for tests: packets for which this returns true are
   * dropped after the viewer's NACK logic has seen them (so it does not ask
   * for them; `sendNack` does).
   */
  dropPacket?: (sequenceNumber: number) => boolean;
  /** Offer RTX (RFC 4588) for H.264 (default true). */
  rtx?: boolean;
  /** Offer transport-cc and send its feedback (default true); false: REMB-era peer. */
  transportCc?: boolean;
  /** How often transport-cc feedback goes out, ms (default 50, about Chrome's). */
  feedbackIntervalMs?: number;
  /**
   * Signal host addresses as `<uuid>.local` mDNS names, as browsers do
   * (mdns-candidates.ts): the device must find this viewer through its
   * checks (peer-reflexive candidates). Default false.
   */
  mdnsCandidates?: boolean;
}

export interface HeadlessViewerEvents {
  candidate: [IceCandidate | null];
  frame: [ReceivedFrame];
  /** Every media RTP packet as it arrives (RTX unwrapped, after dropPacket), for tests and stats. */
  rtp: [RtpPacket];
  /** Every RTP packet as it came off the wire (media, RTX, padding), for tests. */
  wireRtp: [RtpPacket];
  connectionState: [string];
  /** An RTCP sender report (RFC 3550 section 6.4.1): the sender's NTP/RTP clock mapping. */
  senderReport: [SenderReport];
}

export interface SenderReport {
  /** 64-bit NTP timestamp as sent (seconds since 1900 << 32 | fraction). */
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  /** When it arrived here, µs since the Unix epoch. */
  receivedAtUs: number;
}

export { unixUsFromNtp } from "../../rtp/ntp.js";

export { describePair, type PairEnd, type SelectedPair } from "../werift/selected-pair.js";

export interface HeadlessViewerStats {
  packetsReceived: number;
  packetsLost: number;
  packetsDropped: number;
  bytesReceived: number;
  frames: number;
  keyFrames: number;
  framesDropped: number;
  plisSent: number;
  nacksSent: number;
  transportFeedbackSent: number;
  /** The playout-delay the sender asks for, if any (ms). */
  playoutDelay: { minMs: number; maxMs: number } | undefined;
  /** µs since the Unix epoch, when createOffer was called / the first frame completed. */
  startedAtUs: number;
  firstFrameAtUs: number | undefined;
}

/**
 * `next` with the o= sess-id of `first` and its version one up: a subsequent
 * offer of one peer connection keeps the sess-id (RFC 9429 section 5.2.2),
 * but werift 0.24.4 draws a new one for every description (addSDPHeader in
 * packages/webrtc/src/sdp.ts), and the gateway tells an ICE restart from a
 * new peer connection by it (webrtc/renegotiation.ts).
 */
export function sameOrigin(first: string, next: string): string {
  const origin = /^o=(\S+) (\S+) (\d+) (.*)$/m.exec(first);
  if (!origin) return next;
  const [, user = "-", id = "0", version = "0", rest = ""] = origin;
  return next.replace(/^o=.*$/m, `o=${user} ${id} ${Number(version) + 1} ${rest}`);
}

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

export class HeadlessViewer extends EventEmitter<HeadlessViewerEvents> {
  private readonly pc: RTCPeerConnection;
  private readonly ice: IceConfig;
  private readonly transceiver: RTCRtpTransceiver;
  private readonly assembler: FrameAssembler;
  private readonly dropPacket: ((seq: number) => boolean) | undefined;
  private readonly keyFrameRetryMs: number;
  /** Hides what this peer signals about its addresses (options.mdnsCandidates), or null. */
  private readonly mdns: MdnsCandidates | null;
  private readonly unsubscribers: (() => void)[] = [];
  private wireWatched = false;
  private readonly heldCandidates: (IceCandidate | null)[] = [];
  private released = false;
  private offer: { type: "offer"; sdp: string } | undefined;
  /** The last offer handed to the device (its o= line is the one the device knows). */
  private lastSignaled: string | undefined;
  /** setLocalDescription: werift gathers inside it, and the answer may only follow it. */
  private gathering: Promise<void> | undefined;
  private mediaSsrc: number | undefined;
  // The gateway sends an IDR on join by itself; PLI only if none came within keyFrameRetryMs.
  private lastPliAt = performance.now();
  private wantKeyFrame = true;
  private closed = false;
  private firSequence = 0;
  private readonly counters = {
    bytes: 0,
    dropped: 0,
    frames: 0,
    keyFrames: 0,
    plis: 0,
    nacks: 0,
    feedback: 0,
  };
  private readonly feedback: FeedbackRecorder | undefined;
  private feedbackTimer: NodeJS.Timeout | undefined;
  private readonly nacks = new NackRequester();
  private readonly nackTimer: NodeJS.Timeout;
  /** Capture times (µs, sender clock) by RTP timestamp, from abs-capture-time. */
  private readonly captureTimes = new Map<number, number>();
  private playoutDelay: { minMs: number; maxMs: number } | undefined;
  private readonly startedAtUs = nowUs();
  private firstFrameAtUs: number | undefined;

  constructor(options: HeadlessViewerOptions = {}) {
    super();
    this.ice = options.ice ?? {};
    this.dropPacket = options.dropPacket;
    this.keyFrameRetryMs = options.keyFrameRetryMs ?? 1000;
    this.mdns = options.mdnsCandidates ? new MdnsCandidates() : null;
    const transportCc = options.transportCc ?? true;
    const h264 = new RTCRtpCodecParameters({
      mimeType: "video/H264",
      clockRate: 90_000,
      rtcpFeedback: [useNACK(), usePLI(), useREMB(), ...(transportCc ? [useTWCC()] : [])],
      parameters: "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1",
    });
    // werift numbers an rtx codec right after the one it repairs (apt = its PT - 1).
    const rtx = new RTCRtpCodecParameters({ mimeType: "video/rtx", clockRate: 90_000 });
    this.pc = new RTCPeerConnection({
      ...weriftIceOptions(this.ice),
      codecs: { audio: [], video: options.rtx === false ? [h264] : [h264, rtx] },
      headerExtensions: {
        audio: [],
        video: videoHeaderExtensions().filter((e) => transportCc || e.uri !== URI.transportCc),
      },
    });
    this.transceiver = this.pc.addTransceiver("video", { direction: "recvonly" });
    const receiver = this.transceiver.receiver;
    if (transportCc) {
      const recorder = new FeedbackRecorder(receiver.rtcpSsrc);
      this.feedback = recorder;
      this.unsubscribers.push(
        takeReceiverFeedback(receiver, (seq) => recorder.received(seq, nowUs(), this.mediaSsrc)),
      );
      this.feedbackTimer = setInterval(() => this.sendFeedback(), options.feedbackIntervalMs ?? 50);
    }
    clearDefaultStunServer(this.pc, this.ice);
    silenceReceiverNacks(receiver);
    // libwebrtc checks its NACK list every 20 ms (nack_requester.cc, kUpdateInterval).
    this.nackTimer = setInterval(() => this.resendNacks(), 20);
    this.assembler = new FrameAssembler({
      maxWaitMs: options.maxWaitMs ?? 1000,
      onFrame: (frame) => this.onFrame(frame),
      onNeedKeyFrame: () => {
        this.wantKeyFrame = true;
        this.requestKeyFrame();
      },
    });
    const subs = [
      this.pc.onTrack.subscribe((track: MediaStreamTrack) => {
        const sub = track.onReceiveRtp.subscribe((rtp, extensions) => this.onRtp(rtp, extensions));
        this.unsubscribers.push(() => sub.unSubscribe());
      }),
      this.pc.onIceCandidate.subscribe((c) => {
        if (c?.candidate) {
          this.emitCandidate({
            candidate: this.mdns ? this.mdns.hide(c.candidate) : c.candidate,
            sdpMid: c.sdpMid ?? null,
            sdpMLineIndex: c.sdpMLineIndex ?? null,
          });
        }
      }),
      this.pc.iceGatheringStateChange.subscribe((state) => {
        if (state === "complete") this.emitCandidate(null);
      }),
      this.pc.connectionStateChange.subscribe((state) => this.emit("connectionState", state)),
      this.transceiver.receiver.onRtcp.subscribe((packet) => {
        if (packet instanceof RtcpSrPacket) {
          const info = packet.senderInfo;
          this.emit("senderReport", {
            ntpTimestamp: info.ntpTimestamp,
            rtpTimestamp: info.rtpTimestamp,
            packetCount: info.packetCount,
            octetCount: info.octetCount,
            receivedAtUs: nowUs(),
          });
        }
      }),
    ];
    for (const sub of subs) this.unsubscribers.push(() => sub.unSubscribe());
  }

  /**
   * Creates the recvonly offer and gathers (werift's setLocalDescription
   * waits for every candidate, so the SDP has them all; they trickle too).
   */
  async createOffer(): Promise<string> {
    const sdp = await this.makeOffer();
    await this.gather();
    return this.signaled(this.pc.localDescription?.sdp ?? sdp);
  }

  /**
   * An ICE restart offer on the same peer connection (new ufrag and pwd, the
   * same DTLS association, RFC 8839 section 4.4.1.1.1), as a browser's
   * createOffer({iceRestart: true}), gathered with the servers the peer has;
   * send it, then acceptAnswer().
   */
  async restartIce(): Promise<string> {
    await this.gathering;
    // The last offer as the device got it: werift's own local description
    // keeps werift's new sess-id, and a second restart built on that one
    // looked like a new peer connection to the device (a replaced session
    // this peer connection could not answer: no video until a new session).
    const first = this.lastSignaled ?? this.pc.localDescription?.sdp ?? "";
    this.pc.restartIce();
    const offer = await this.pc.createOffer();
    this.gathering = this.pc.setLocalDescription(offer).then(() => undefined);
    await this.gathering;
    return this.signaled(sameOrigin(first, this.pc.localDescription?.sdp ?? offer.sdp));
  }

  /**
   * The recvonly offer without gathering yet: its candidates trickle once
   * gather() runs. A viewer that learns its ICE servers from the device
   * sends this at once and gathers when they arrive (docs/signaling.md,
   * "ICE servers").
   */
  async makeOffer(): Promise<string> {
    const offer = await this.pc.createOffer();
    this.offer = { type: "offer", sdp: offer.sdp };
    return this.signaled(offer.sdp);
  }

  /** An SDP as it goes to the device: with its addresses hidden when asked (mdnsCandidates). */
  private signaled(sdp: string): string {
    this.lastSignaled = this.mdns ? this.mdns.hideInSdp(sdp) : sdp;
    return this.lastSignaled;
  }

  /**
   * Gathers candidates for the offer made by makeOffer(), with these ICE
   * servers in place of the constructor's when given; resolves when
   * gathering is complete. Once only.
   */
  gather(iceServers?: readonly IceServer[]): Promise<void> {
    if (this.gathering) return this.gathering;
    const offer = this.offer;
    if (!offer) return Promise.reject(new Error("HeadlessViewer.gather before makeOffer"));
    if (iceServers) setIceServersBeforeGathering(this.pc, iceServers);
    this.gathering = this.pc.setLocalDescription(offer).then(() => undefined);
    // Candidates go out once the caller has handed the offer over.
    setImmediate(() => this.releaseCandidates());
    return this.gathering;
  }

  /** Applies the answer once gathering for the offer is complete (werift wants that order). */
  async acceptAnswer(sdp: string): Promise<void> {
    await this.gather();
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    if (this.closed) return;
    if (!this.wireWatched) {
      // Once: an ICE restart answers again on the same DTLS transports.
      this.wireWatched = true;
      for (const transport of new Set(this.pc.dtlsTransports)) {
        const sub = transport.onRtp.subscribe((rtp) => this.emit("wireRtp", rtp));
        this.unsubscribers.push(() => sub.unSubscribe());
      }
    }
    // After restartIce(): werift would not run the checks (werift/ice-restart-start.ts).
    void startRestartedIce(this.pc).catch(() => undefined);
  }

  addRemoteCandidate(candidate: IceCandidate | null): void {
    if (this.closed) return;
    this.pc.addIceCandidate(weriftCandidate(candidate)).catch(() => undefined);
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  /** The nominated candidate pair, or null before ICE has one. */
  get selectedPair(): SelectedPair | null {
    return selectedPair(this.pc);
  }

  /** Sends a PLI (RFC 4585 section 6.3.1) for the received stream. */
  requestKeyFrame(): void {
    if (this.closed || this.mediaSsrc === undefined) return;
    this.lastPliAt = performance.now();
    this.counters.plis++;
    this.transceiver.receiver.sendRtcpPLI(this.mediaSsrc).catch(() => undefined);
  }

  /**
   * Sends a FIR (RFC 5104 section 4.3.1), as browsers do where PLI was not
   * negotiated (built as bytes: werift does not export its FIR class, see
   * werift/fir.ts).
   */
  sendFir(): void {
    if (this.closed || this.mediaSsrc === undefined) return;
    this.firSequence = (this.firSequence + 1) & 0xff;
    const receiver = this.transceiver.receiver;
    const packets = fullIntraRequest(receiver.rtcpSsrc, this.mediaSsrc, this.firSequence);
    receiver.dtlsTransport.sendRtcp(packets).catch(() => undefined);
  }

  /** Sends a generic NACK (RFC 4585 section 6.2.1) for these sequence numbers. */
  sendNack(lost: number[]): void {
    if (this.closed || this.mediaSsrc === undefined) return;
    this.counters.nacks++;
    const nack = new GenericNack({
      senderSsrc: this.transceiver.receiver.rtcpSsrc,
      mediaSourceSsrc: this.mediaSsrc,
      lost,
    });
    this.transceiver.receiver.dtlsTransport
      .sendRtcp([new RtcpTransportLayerFeedback({ feedback: nack })])
      .catch(() => undefined);
  }

  get stats(): HeadlessViewerStats {
    const a = this.assembler.stats;
    return {
      packetsReceived: a.packetsReceived,
      packetsLost: a.packetsLost,
      packetsDropped: this.counters.dropped,
      bytesReceived: this.counters.bytes,
      frames: this.counters.frames,
      keyFrames: this.counters.keyFrames,
      framesDropped: a.framesDropped,
      plisSent: this.counters.plis,
      nacksSent: this.counters.nacks,
      transportFeedbackSent: this.counters.feedback,
      playoutDelay: this.playoutDelay,
      startedAtUs: this.startedAtUs,
      firstFrameAtUs: this.firstFrameAtUs,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.feedbackTimer) clearInterval(this.feedbackTimer);
    this.feedbackTimer = undefined;
    clearInterval(this.nackTimer);
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.removeAllListeners();
    // werift 0.24.4 leaks the sockets bound after a close during gathering
    // (werift/close-after-gathering.ts).
    await this.gathering?.catch(() => undefined);
    await this.pc.close().catch(() => undefined);
  }

  /** Closes the ICE sockets only: the gateway sees a viewer that vanished (tests). */
  async vanish(): Promise<void> {
    for (const transport of this.pc.iceTransports) await transport.connection.close();
    await this.close();
  }

  private releaseCandidates(): void {
    this.released = true;
    for (const c of this.heldCandidates.splice(0)) this.emit("candidate", c);
  }

  private emitCandidate(candidate: IceCandidate | null): void {
    if (this.closed) return;
    if (this.released) this.emit("candidate", candidate);
    else this.heldCandidates.push(candidate);
  }

  /** Sends transport-cc feedback for what arrived since the last (draft-holmer-...-01 section 3.1). */
  private sendFeedback(): void {
    if (this.closed || !this.feedback) return;
    const receiver = this.transceiver.receiver;
    for (const message of this.feedback.takeFeedback()) {
      this.counters.feedback++;
      sendRtcpBytes(receiver, message);
    }
  }

  private onRtp(rtp: RtpPacket, extensions: Record<string, unknown> = {}): void {
    if (this.closed) return;
    this.mediaSsrc = rtp.header.ssrc;
    const asked = this.nacks.received(rtp.header.sequenceNumber, performance.now());
    if (asked.nack.length > 0) this.sendNack([...asked.nack]);
    if (asked.keyFrame) this.requestKeyFrame();
    if (this.dropPacket?.(rtp.header.sequenceNumber)) {
      this.counters.dropped++;
      return;
    }
    const capture = extensions[URI.absCaptureTime];
    if (Buffer.isBuffer(capture)) {
      const time = readAbsCaptureTime(capture);
      if (time) this.rememberCapture(rtp.header.timestamp, time.captureUnixUs);
    }
    const delay = extensions[URI.playoutDelay];
    if (Buffer.isBuffer(delay)) this.playoutDelay = readPlayoutDelay(delay) ?? this.playoutDelay;
    this.counters.bytes += rtp.payload.length;
    this.emit("rtp", rtp);
    this.assembler.push(
      rtp.header.sequenceNumber,
      rtp.header.timestamp,
      rtp.header.marker,
      rtp.payload,
    );
    if (this.wantKeyFrame && performance.now() - this.lastPliAt > this.keyFrameRetryMs) {
      this.requestKeyFrame();
    }
  }

  private rememberCapture(rtpTimestamp: number, captureUnixUs: number): void {
    this.captureTimes.set(rtpTimestamp, captureUnixUs);
    // A few seconds of frames: entries go once their frame is out or long gone.
    if (this.captureTimes.size > 256) {
      const oldest = this.captureTimes.keys().next().value;
      if (oldest !== undefined) this.captureTimes.delete(oldest);
    }
  }

  private resendNacks(): void {
    const again = this.nacks.due(performance.now());
    if (again.length > 0) this.sendNack(again);
  }

  private onFrame(assembled: ReceivedFrame): void {
    // Decoded past these: what is still missing before it is no longer needed.
    this.nacks.clearBefore(assembled.firstSequence);
    const captureUnixUs = this.captureTimes.get(assembled.rtpTimestamp);
    this.captureTimes.delete(assembled.rtpTimestamp);
    const frame = captureUnixUs === undefined ? assembled : { ...assembled, captureUnixUs };
    this.counters.frames++;
    if (frame.keyframe) {
      this.counters.keyFrames++;
      this.wantKeyFrame = false;
    }
    this.firstFrameAtUs ??= frame.receivedAtUs;
    this.emit("frame", frame);
  }
}
