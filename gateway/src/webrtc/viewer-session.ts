import { EventEmitter } from "node:events";
import { RTCPeerConnection } from "werift";
import type { ByeReason, IceCandidate } from "../signaling/session-host.js";
import { weriftCandidate, weriftIceOptions, type IceConfig } from "./ice-config.js";
import type { TurnTransport } from "./ice-server-provider.js";
import type { AcceptedOffer } from "./offer-plan.js";
import type { SdpCodec } from "./offer-sdp.js";
import { h264SendCodec, VideoSender, type VideoSenderOptions } from "./send/video-sender.js";
import {
  candidatePolicy,
  candidateRefusal,
  MAX_REMOTE_CANDIDATES,
  type CandidatePolicy,
} from "./remote-candidates.js";
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

/**
 * One viewer's werift RTCPeerConnection and its lifecycle: negotiation
 * (answer, DTLS role), ICE candidates both ways, connection state, and
 * whether the viewer is still there (consent freshness, RFC 7675). What it
 * sends lives in its media senders (today `video`, a VideoSender the stream
 * fan-out feeds); the session manager owns the sessions.
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
}

/** What became of a viewer's candidate (remote-candidates.ts). */
export type RemoteCandidateResult = "added" | "refused" | "over-limit";

export class ViewerSession extends EventEmitter<ViewerSessionEvents> {
  readonly viewerId: string;
  readonly session: string;
  /** The H.264 video this viewer gets. */
  readonly video: VideoSender;
  state: "new" | "negotiating" | "connected" | "closed" = "new";

  private readonly ice: IceConfig;
  private readonly candidatePolicy: CandidatePolicy;
  private remoteCandidates = 0;
  private readonly dtlsRole: "server" | "client";
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
    const declared = (kind: "audio" | "video") =>
      plan.inactive.filter((s) => s.kind === kind).map((s) => declaredCodec(kind, s.codec));
    const pc = new RTCPeerConnection({
      ...weriftIceOptions(this.ice),
      codecs: {
        audio: declared("audio"),
        video: [
          h264SendCodec(plan.codec),
          ...(plan.rtx ? [rtxCodec(plan.rtx.payloadType, plan.codec.payloadType)] : []),
          ...declared("video"),
        ],
      },
      headerExtensions: { audio: [], video: videoHeaderExtensions() },
      // Reply to every STUN request (what werift does without the hook); a
      // request is the viewer's consent check (RFC 7675), i.e. a sign of life.
      iceFilterStunResponse: () => {
        this.received++;
        return true;
      },
    });
    this.pc = pc;
    this.video.addTo(pc);
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
    this.unsubscribers.push(replayEarlyDtls(pc));
    this.remoteDescriptionSet = true;
    for (const candidate of this.pendingCandidates.splice(0)) this.applyCandidate(candidate);

    const created = await pc.createAnswer();
    if (this.isClosed()) throw new Error("session closed during negotiation");
    const sdp =
      this.dtlsRole === "server" ? answerAsDtlsServer(plan.sdp, created.sdp) : created.sdp;
    const answer = { type: created.type, sdp };
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
   * Answers an offer that restarts ICE on this session (ice-restart.ts): the
   * same peer connection and DTLS association, new ICE credentials and
   * candidates (werift restarts its ICE transport when the remote ufrag and
   * pwd change, packages/webrtc/src/transport/ice.ts setRemoteParams).
   * Resolves with the answer; the new generation's candidates are held until
   * releaseCandidates(), as for the first answer.
   */
  async restartIce(plan: AcceptedOffer): Promise<string> {
    const pc = this.pc;
    if (!pc || this.isClosed() || !this.remoteDescriptionSet) {
      throw new Error("ICE restart on a session that has not answered");
    }
    this.answerReleased = false;
    this.gatheringDone = false;
    await this.gathering;
    await pc.setRemoteDescription({ type: "offer", sdp: plan.sdp });
    if (this.isClosed()) throw new Error("session closed during ICE restart");
    clearDefaultStunServer(pc, this.ice);
    const created = await pc.createAnswer();
    if (this.isClosed()) throw new Error("session closed during ICE restart");
    const sdp =
      this.dtlsRole === "server" ? answerAsDtlsServer(plan.sdp, created.sdp) : created.sdp;
    this.gathering = pc
      .setLocalDescription({ type: created.type, sdp })
      .then(() => startRestartedIce(pc))
      .then(
        () => undefined,
        () => this.end("ice-failed"),
      );
    return sdp;
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
   * at most 32 per session.
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

  /** Frees everything (idempotent); emits nothing. */
  async close(): Promise<void> {
    if (this.isClosed()) return;
    this.state = "closed";
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.pendingCandidates.length = 0;
    this.heldCandidates.length = 0;
    this.video.close();
    const pc = this.pc;
    this.pc = undefined;
    this.removeAllListeners();
    await closeAfterGathering(pc, this.gathering);
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
      pc.connectionStateChange.subscribe((state) => {
        if (state === "connected" && this.state === "negotiating") {
          this.state = "connected";
          this.emit("connected");
          this.video.start();
        } else if (state === "failed" || state === "closed") {
          this.end("ice-failed");
        }
      }),
    ];
    for (const sub of subs) this.unsubscribers.push(() => sub.unSubscribe());
  }
}
