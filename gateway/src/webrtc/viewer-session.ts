import { EventEmitter } from "node:events";
import {
  MediaStream,
  RTCPeerConnection,
  type RTCDataChannel,
  type RTCRtpCodecParameters,
} from "werift";
import { CONTROL_LABEL } from "../control/control-messages.js";
import type { ByeReason, IceCandidate } from "../signaling/session-host.js";
import { weriftCandidate, weriftIceOptions, type IceConfig } from "./ice-config.js";
import type { TurnTransport } from "./ice-server-provider.js";
import type { AcceptedOffer } from "./offer-plan.js";
import { parseOfferSdp, type OfferSdp, type SdpCodec } from "./offer-sdp.js";
import { offerChange, type OfferChange } from "./renegotiation.js";
import { talkerName, type TalkFloor } from "./receive/talk-floor.js";
import type { AudioFanout } from "./send/audio-fanout.js";
import { opusCodec } from "./send/audio-sender.js";
import { h264SendCodec, VideoSender, type VideoSenderOptions } from "./send/video-sender.js";
import {
  candidatePolicy,
  candidateRefusal,
  MAX_REMOTE_CANDIDATES,
  type CandidatePolicy,
} from "./remote-candidates.js";
import { SessionAudio, type SessionAudioStats } from "./session-audio.js";
import { closeAfterGathering } from "./werift/close-after-gathering.js";
import { clearDefaultStunServer } from "./werift/default-stun.js";
import { answerAsDtlsServer } from "./werift/dtls-role.js";
import { replayEarlyDtls } from "./werift/early-dtls.js";
import { videoHeaderExtensions } from "./werift/header-extensions.js";
import { startRestartedIce } from "./werift/ice-restart-start.js";
import { relayAllocationTransport } from "./werift/ice-servers.js";
import { declaredCodec } from "./werift/inactive-section.js";
import { rtxCodec } from "./werift/rtx.js";
import { selectedPair, type SelectedPair } from "./werift/selected-pair.js";
import { hasSctp, startSctpAddedByRenegotiation } from "./werift/sctp-renegotiation.js";

/** a=max-message-size we advertise (RFC 8841 section 6): a control message is far smaller. */
const MAX_DATA_MESSAGE = 65_536;

/**
 * One viewer's werift RTCPeerConnection and its lifecycle: negotiation
 * (answer, DTLS role), ICE candidates both ways, connection state, and
 * whether the viewer is still there (consent freshness, RFC 7675), and
 * renegotiation on that same connection. What it sends and receives lives
 * in its media parts: `video` (a VideoSender the stream fan-out feeds),
 * `audio` (microphone out, talk-back in) and the control DataChannel it
 * hands over with `control`; the session manager owns the sessions.
 */

export interface ViewerSessionEvents {
  /** A local candidate to trickle; null once gathering is complete. */
  candidate: [IceCandidate | null];
  /** DTLS is up: media can flow. */
  connected: [];
  /** The session ended by itself (never emitted for close()). */
  ended: [ByeReason];
  /** Gathering is complete and made a TURN allocation over this transport. */
  relay: [TurnTransport];
  /** The viewer opened its control DataChannel (label CONTROL_LABEL; at most once). */
  control: [RTCDataChannel];
  /** Talk-back from this viewer is dropped: another viewer holds the floor. */
  talkBusy: [];
  /** close() ran: whatever hangs off the session lets go. */
  closed: [];
}

export interface ViewerSessionOptions {
  viewerId: string;
  session: string;
  /** The video sender's setup: the stream's history, bandwidth, pacing, playout delay. */
  video: VideoSenderOptions;
  ice: IceConfig;
  /**
   * DTLS role to take when the offer leaves it open (actpass): "server"
   * (default, answer setup:passive, see werift/dtls-role.ts) or "client"
   * (werift's own choice).
   */
  dtlsRole?: "server" | "client";
  /** The microphone's fan-out and the talk floor, where the device has them. */
  audio?: { fanout?: AudioFanout | undefined; floor?: TalkFloor | undefined };
}

/** What became of a viewer's candidate (remote-candidates.ts). */
export type RemoteCandidateResult = "added" | "refused" | "over-limit";

export class ViewerSession extends EventEmitter<ViewerSessionEvents> {
  readonly viewerId: string;
  readonly session: string;
  /** The H.264 video this viewer gets. */
  readonly video: VideoSender;
  /** Its audio section, once an offer asked for audio the device has. */
  audio: SessionAudio | undefined;
  /** What audio sections rejected mid-call (and replaced by a new one) had sent and received. */
  private readonly retiredAudio: SessionAudioStats = {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
  };
  state: "new" | "negotiating" | "connected" | "closed" = "new";
  /** Offers answered on this peer connection (1 + renegotiations). */
  negotiations = 0;

  private readonly ice: IceConfig;
  private readonly candidatePolicy: CandidatePolicy;
  private remoteCandidates = 0;
  private readonly dtlsRole: "server" | "client";
  private readonly audioDeps: NonNullable<ViewerSessionOptions["audio"]>;
  /** One stream id for all our tracks: a browser lip-syncs only tracks of one stream. */
  private readonly mediaStream = new MediaStream({ id: "camgw" });
  /** The offer last applied: the next one is judged against it (renegotiation.ts). */
  private lastOffer: OfferSdp | undefined;
  private videoMid: string | undefined;
  private controlOpened = false;
  private pc: RTCPeerConnection | undefined;
  private readonly unsubscribers: (() => void)[] = [];
  private remoteDescriptionSet = false;
  private gathering: Promise<void> | undefined;
  private readonly pendingCandidates: (IceCandidate | null)[] = [];
  /** Local candidates are held until the answer has gone out (spec: trickle after the answer). */
  private answerReleased = false;
  private readonly heldCandidates: (IceCandidate | null)[] = [];
  /** End-of-candidates went out for the current ICE generation. */
  private gatheringDone = false;
  private received = 0;
  private lastActivityCount = -1;
  private lastActivityAt: number;

  constructor(options: ViewerSessionOptions) {
    super();
    this.viewerId = options.viewerId;
    this.session = options.session;
    this.video = new VideoSender(options.video);
    this.ice = options.ice;
    this.candidatePolicy = candidatePolicy(options.ice);
    this.dtlsRole = options.dtlsRole ?? "server";
    this.audioDeps = options.audio ?? {};
    this.lastActivityAt = performance.now();
  }

  /**
   * Applies the planned (narrowed) offer and resolves with the answer SDP as
   * soon as werift has made it. Gathering runs on afterwards and local
   * candidates trickle through `candidate` once releaseCandidates() is called.
   */
  async answer(plan: AcceptedOffer): Promise<string> {
    if (this.state !== "new") throw new Error("ViewerSession.answer called twice");
    this.state = "negotiating";
    const pc = new RTCPeerConnection({
      ...weriftIceOptions(this.ice),
      codecs: codecsFor(plan),
      headerExtensions: { audio: [], video: videoHeaderExtensions() },
      maxMessageSize: MAX_DATA_MESSAGE,
      // Reply to every STUN request (what werift does without the hook); a
      // request is the viewer's consent check (RFC 7675), i.e. a sign of life.
      iceFilterStunResponse: () => {
        this.received++;
        return true;
      },
    });
    this.pc = pc;
    this.video.addTo(pc, this.mediaStream);
    if (plan.audio) this.addAudio(pc, plan);
    clearDefaultStunServer(pc, this.ice);
    this.wire(pc);

    await pc.setRemoteDescription({ type: "offer", sdp: plan.sdp });
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
    this.video.transportsReady(pc);
    this.audioApplied();
    this.unsubscribers.push(replayEarlyDtls(pc));
    this.remoteDescriptionSet = true;
    for (const candidate of this.pendingCandidates.splice(0)) this.applyCandidate(candidate);

    const answer = await this.createAnswer(pc, plan);
    this.lastOffer = parseOfferSdp(plan.sdp);
    this.videoMid = plan.section.mid;
    this.negotiations++;
    // Not awaited: werift's setLocalDescription waits for gathering to
    // finish before it starts ICE checks; the answer text is final already.
    this.gathering = pc.setLocalDescription(answer).then(
      () => {
        const relay = relayAllocationTransport(pc);
        if (relay && !this.isClosed()) this.emit("relay", relay);
      },
      () => this.end("ice-failed"),
    );
    return answer.sdp;
  }

  /**
   * How this session answers `plan`, an offer for it (renegotiation.ts
   * decides; this adds what only the session knows): an ICE restart needs an
   * answered offer, a renegotiation a connected call with video and audio in
   * their sections. Anything else replaces the session.
   */
  offerChange(plan: AcceptedOffer): OfferChange {
    const previous = this.lastOffer;
    if (!this.pc || this.isClosed() || !previous || !this.remoteDescriptionSet) {
      return { kind: "replacement", reason: `session ${this.state}` };
    }
    const next = parseOfferSdp(plan.sdp);
    const change = offerChange(previous, next);
    if (change.kind !== "renegotiation") return change;
    if (this.state !== "connected") return { kind: "replacement", reason: `session ${this.state}` };
    if (plan.section.mid !== this.videoMid) {
      return { kind: "replacement", reason: "video moved to another section" };
    }
    if (this.audio && plan.audio && plan.audio.section.mid !== this.audio.mid) {
      // Audio in a new section is fine once its old one is rejected (port 0)
      // or recycled (RFC 8829 section 5.2.2): a browser that stopped its
      // audio transceiver and adds another.
      const old = next.media.find((m) => m.mid === this.audio?.mid);
      if (old && old.port !== 0) {
        return { kind: "replacement", reason: "audio moved to another section" };
      }
    }
    return change;
  }

  /**
   * Answers an offer that restarts ICE on this session (check offerChange
   * first): the same peer connection and DTLS association, new ICE
   * credentials and candidates (werift restarts its ICE transport when the
   * remote ufrag and pwd change, packages/webrtc/src/transport/ice.ts
   * setRemoteParams). The media sections are the same ones; an audio
   * section's direction follows the offer. Resolves with the answer; the new
   * generation's candidates are held until releaseCandidates(), as for the
   * first answer.
   */
  async restartIce(plan: AcceptedOffer): Promise<string> {
    const pc = this.pc;
    const change = this.offerChange(plan);
    if (!pc || change.kind !== "ice-restart") {
      throw new Error(
        `not an ICE restart: ${change.kind === "replacement" ? change.reason : change.kind}`,
      );
    }
    this.answerReleased = false;
    this.gatheringDone = false;
    // The limit is per ICE generation: werift's restarted transport drops the
    // old generation's remote candidates (RFC 8445 9), and a board that is
    // watched for months restarts again and again (each restart offer is
    // rate-limited by the dispatcher, so this bounds nothing less).
    this.remoteCandidates = 0;
    await this.gathering;
    this.audio?.update(plan.audio);
    await pc.setRemoteDescription({ type: "offer", sdp: plan.sdp });
    if (this.isClosed()) throw new Error("session closed during ICE restart");
    clearDefaultStunServer(pc, this.ice);
    this.audioApplied();
    const answer = await this.createAnswer(pc, plan);
    this.lastOffer = parseOfferSdp(plan.sdp);
    this.negotiations++;
    this.gathering = pc
      .setLocalDescription(answer)
      .then(() => startRestartedIce(pc))
      .then(
        () => undefined,
        () => this.end("ice-failed"),
      );
    return answer.sdp;
  }

  /**
   * Answers a new offer on the same peer connection (check offerChange
   * first): no new ICE, no new DTLS, the video goes on without waiting for a
   * key frame. Audio and the control DataChannel may come or go; the answer
   * keeps our DTLS role.
   */
  async renegotiate(plan: AcceptedOffer): Promise<string> {
    const pc = this.pc;
    const change = this.offerChange(plan);
    if (!pc || change.kind !== "renegotiation") {
      throw new Error(
        `cannot renegotiate: ${change.kind === "replacement" ? change.reason : change.kind}`,
      );
    }
    // Sections added now may need codecs the first offer did not (werift
    // keeps one codec list per kind; setConfiguration replaces it).
    pc.setConfiguration({ codecs: codecsFor(plan) });
    if (plan.audio && this.audio && plan.audio.section.mid !== this.audio.mid) {
      // Its section was rejected (offerChange): audio goes on in a new one.
      this.retireAudio(this.audio);
      this.audio = undefined;
    }
    if (plan.audio && !this.audio) this.addAudio(pc, plan);
    else this.audio?.update(plan.audio);
    const hadSctp = hasSctp(pc);

    await pc.setRemoteDescription({ type: "offer", sdp: plan.sdp });
    if (this.isClosed()) throw new Error("session closed during renegotiation");
    this.audioApplied();
    const answer = await this.createAnswer(pc, plan);
    // No gathering here: werift skips it for a bundled, connected transport.
    await pc.setLocalDescription(answer);
    if (this.isClosed()) throw new Error("session closed during renegotiation");
    this.lastOffer = parseOfferSdp(plan.sdp);
    this.negotiations++;
    if (!hadSctp && hasSctp(pc)) {
      startSctpAddedByRenegotiation(pc).catch(() => undefined);
    }
    this.audio?.start();
    return answer.sdp;
  }

  /**
   * The outbound side (WHIP egress, RFC 9725): we offer to send the stream
   * with `codec` and a media server answers. Resolves with the offer once
   * gathering is complete, candidates included (RFC 9725 section 4.3.2
   * allows an offer with all candidates; no trickle is then needed), and
   * never emits `candidate`.
   */
  async offer(codec: SdpCodec): Promise<string> {
    if (this.state !== "new") throw new Error("ViewerSession.offer called twice");
    this.state = "negotiating";
    const pc = new RTCPeerConnection({
      ...weriftIceOptions(this.ice),
      codecs: { audio: [], video: [h264SendCodec(codec)] },
      headerExtensions: { audio: [], video: videoHeaderExtensions() },
      iceFilterStunResponse: () => {
        this.received++;
        return true;
      },
    });
    this.pc = pc;
    this.video.addTo(pc);
    clearDefaultStunServer(pc, this.ice);
    this.wire(pc);
    const created = await pc.createOffer();
    clearDefaultStunServer(pc, this.ice);
    this.gathering = pc.setLocalDescription(created).then(() => undefined);
    await this.gathering;
    if (this.isClosed()) throw new Error("session closed during negotiation");
    return pc.localDescription?.sdp ?? created.sdp;
  }

  /** Applies the media server's answer to offer(); ICE and DTLS start. */
  async acceptAnswer(sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc || this.isClosed()) throw new Error("session closed before the answer");
    await pc.setRemoteDescription({ type: "answer", sdp });
    for (const transport of pc.iceTransports) {
      const sub = transport.connection.onData.subscribe(() => {
        this.received++;
      });
      this.unsubscribers.push(() => sub.unSubscribe());
    }
    this.video.transportsReady(pc);
    this.remoteDescriptionSet = true;
    for (const candidate of this.pendingCandidates.splice(0)) this.applyCandidate(candidate);
  }

  /** Audio sent and received over the whole call (every audio section it had); undefined without audio. */
  get audioStats(): SessionAudioStats | undefined {
    const current = this.audio?.stats;
    if (!current)
      return this.retiredAudio.packetsSent + this.retiredAudio.packetsReceived > 0
        ? { ...this.retiredAudio }
        : undefined;
    const total = { ...current };
    for (const k of Object.keys(total) as (keyof SessionAudioStats)[])
      total[k] += this.retiredAudio[k];
    return total;
  }

  /** The candidate pair ICE nominated, or null before it has one. */
  get pair(): SelectedPair | null {
    return selectedPair(this.pc);
  }

  /** Lets held local candidates go out (call once the answer was handed over). */
  releaseCandidates(): void {
    if (this.answerReleased) return;
    this.answerReleased = true;
    for (const c of this.heldCandidates.splice(0)) this.emit("candidate", c);
  }

  /**
   * Adds a viewer candidate without waiting: werift resolves an mDNS
   * `.local` candidate for up to 10 s, and nothing may wait on that. Only
   * candidates the device can pair with are added (remote-candidates.ts),
   * at most 32 per session and ICE generation (restartIce).
   */
  addRemoteCandidate(candidate: IceCandidate | null): RemoteCandidateResult {
    if (this.isClosed()) return "refused";
    // null, or an empty candidate, is end-of-candidates (RFC 8838 8.2).
    if (candidate !== null && candidate.candidate !== "") {
      this.remoteCandidates += 1;
      if (this.remoteCandidates > MAX_REMOTE_CANDIDATES) return "over-limit";
      if (candidateRefusal(this.candidatePolicy, candidate.candidate) !== undefined)
        return "refused";
    }
    if (!this.remoteDescriptionSet) {
      this.pendingCandidates.push(candidate);
      return "added";
    }
    this.applyCandidate(candidate);
    return "added";
  }

  /**
   * Records activity (any STUN request, DTLS/SRTCP packet or consent
   * response from the viewer) and reports whether the viewer has been
   * silent for longer than `timeoutMs`. A werift sender does not notice a
   * viewer that vanished, so the session manager asks this periodically.
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

  /** Frees everything (idempotent); emits only `closed`. */
  async close(): Promise<void> {
    if (this.isClosed()) return;
    this.state = "closed";
    this.emit("closed");
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.pendingCandidates.length = 0;
    this.heldCandidates.length = 0;
    this.video.close();
    this.audio?.close();
    const pc = this.pc;
    this.pc = undefined;
    this.removeAllListeners();
    await closeAfterGathering(pc, this.gathering);
  }

  private isClosed(): boolean {
    return this.state === "closed";
  }

  /** The audio plan is applied: the video's playout-delay follows whether the viewer hears us. */
  private audioApplied(): void {
    this.audio?.applied();
    this.video.setLipSync(this.audio?.sending ?? false);
  }

  /** Closes an audio section that a renegotiation rejected, keeping its counts. */
  private retireAudio(audio: SessionAudio): void {
    const stats = audio.stats;
    for (const k of Object.keys(this.retiredAudio) as (keyof SessionAudioStats)[]) {
      this.retiredAudio[k] += stats[k];
    }
    audio.close();
  }

  private addAudio(pc: RTCPeerConnection, plan: AcceptedOffer): void {
    if (!plan.audio) return;
    this.audio = new SessionAudio(
      {
        fanout: this.audioDeps.fanout,
        floor: this.audioDeps.floor,
        talker: talkerName(this.viewerId, this.session),
      },
      plan.audio,
    );
    this.audio.addTo(pc, this.mediaStream);
    if (this.state === "connected") this.audio.start();
  }

  /** werift's answer, as the DTLS server when the offer leaves the role open. */
  private async createAnswer(
    pc: RTCPeerConnection,
    plan: AcceptedOffer,
  ): Promise<{ type: "answer"; sdp: string }> {
    const created = await pc.createAnswer();
    if (this.isClosed()) throw new Error("session closed during negotiation");
    const sdp =
      this.dtlsRole === "server" ? answerAsDtlsServer(plan.sdp, created.sdp) : created.sdp;
    return { type: "answer", sdp };
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

  private wire(pc: RTCPeerConnection): void {
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
        if (state === "complete" && !this.gatheringDone) {
          this.gatheringDone = true;
          this.emitCandidate(null);
        }
      }),
      pc.iceConnectionStateChange.subscribe((state) => {
        if (state === "failed") this.end("ice-failed");
      }),
      pc.onDataChannel.subscribe((channel) => {
        // One control channel per session, reliable and ordered (docs/control.md:
        // a lost or reordered reply would leave a request unanswered); anything
        // else is not ours to serve.
        const reliable =
          channel.ordered && channel.maxRetransmits === null && channel.maxPacketLifeTime === null;
        if (channel.label !== CONTROL_LABEL || !reliable || this.controlOpened || this.isClosed()) {
          channel.close();
          return;
        }
        this.controlOpened = true;
        this.emit("control", channel);
      }),
      pc.connectionStateChange.subscribe((state) => {
        if (state === "connected" && this.state === "negotiating") {
          this.state = "connected";
          this.emit("connected");
          this.video.start();
          this.audio?.start();
        } else if (state === "failed" || state === "closed") {
          this.end("ice-failed");
        }
      }),
    ];
    for (const sub of subs) this.unsubscribers.push(() => sub.unSubscribe());
  }
}

/**
 * werift's codec lists for a plan: the chosen H.264 and its RTX (and Opus,
 * when the offer gets audio) plus one declared codec per section we answer inactive
 * (werift/inactive-section.ts).
 */
function codecsFor(plan: AcceptedOffer): {
  audio: RTCRtpCodecParameters[];
  video: RTCRtpCodecParameters[];
} {
  const declared = (kind: "audio" | "video"): RTCRtpCodecParameters[] =>
    plan.inactive.filter((s) => s.kind === kind).map((s) => declaredCodec(kind, s.codec));
  return {
    audio: [...(plan.audio ? [opusCodec(plan.audio.codec)] : []), ...declared("audio")],
    video: [
      h264SendCodec(plan.codec),
      ...(plan.rtx ? [rtxCodec(plan.rtx.payloadType, plan.codec.payloadType)] : []),
      ...declared("video"),
    ],
  };
}
