/**
 * One call to one camera: a signaling session (viewer-client's Call) and
 * the peer connection that plays it, replaced by a fresh one on an ICE
 * restart. It reports what happens as tile-state events and never decides
 * what to do next; once closed, nothing it hears counts any more.
 */
import { ERROR_CODES } from "../../gateway/src/signaling/messages.js";
import {
  CallError,
  type Call,
  type CallEndCause,
  type ViewerClient,
} from "../../gateway/src/signaling/viewer-client.js";
import type { ControlReply } from "../../gateway/src/control/control-messages.js";
import { ControlClient } from "./control-client.js";
import type { FrameMonitor } from "./frame-monitor.js";
import { CameraPeerConnection } from "./peer.js";
import { sampleFromStats, summarizeStats, type StatsSample, type VideoStats } from "./rtc-stats.js";
import type { TileEvent } from "./tile-state.js";

/** Where the time to first frame went: ms after the offer was published. */
export interface CallTimeline {
  /** When the offer went out, ms since the page started loading (performance.now()). */
  offerSinceLoad?: number;
  answer?: number;
  iceConnected?: number;
  /** DTLS done (RTCPeerConnection.connectionState "connected"). */
  connected?: number;
  firstFrame?: number;
}

export interface CameraCallHooks {
  /** Something the tile state machine must hear about. */
  report(event: TileEvent): void;
  /** Fresh figures from getStats(), every second once answered. */
  stats(stats: VideoStats): void;
  /** What the answer allows for sound: hear the camera, talk to it. */
  audio(audio: { listen: boolean; talk: boolean }): void;
  /** A notice on the control channel (e.g. another viewer holds the speaker). */
  notice(notice: ControlReply): void;
}

/** ICE "disconnected" often heals by itself within a second or two (RFC 7675 consent). */
const DISCONNECTED_GRACE_MS = 2_000;
const STATS_INTERVAL_MS = 1_000;

export class CameraCall {
  readonly timeline: CallTimeline = {};
  readonly #client: ViewerClient;
  readonly #deviceId: string;
  readonly #video: HTMLVideoElement;
  readonly #monitor: FrameMonitor;
  readonly #hooks: CameraCallHooks;
  #peer: CameraPeerConnection | undefined;
  #control: ControlClient | undefined;
  #call: Call | undefined;
  #offerAt: number | undefined;
  /** An ICE restart is under way and no frame has come since. */
  #restartPending = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #lastSample: StatsSample | undefined;
  /** This browser's microphone while push-to-talk is held. */
  #talkTrack: MediaStreamTrack | undefined;
  /** Bumped on every press and release: a slow getUserMedia must not outlive its release. */
  #talkTurn = 0;
  #closed = false;

  constructor(
    client: ViewerClient,
    deviceId: string,
    video: HTMLVideoElement,
    monitor: FrameMonitor,
    hooks: CameraCallHooks,
  ) {
    this.#client = client;
    this.#deviceId = deviceId;
    this.#video = video;
    this.#monitor = monitor;
    this.#hooks = hooks;
  }

  get session(): string | undefined {
    return this.#call?.session;
  }

  /**
   * Makes the offer and publishes it; the answer and what follows arrive as
   * events. With ICE servers from an earlier call in hand it gathers with
   * them at once; otherwise the offer goes out first and gathering starts
   * when the camera's servers arrive (they come before its answer), so the
   * first offer can use TURN without a round trip of its own
   * (docs/signaling.md, "ICE servers").
   */
  async start(): Promise<void> {
    const cached = this.#client.cachedIceServers(this.#deviceId);
    const peer = this.#newPeer(cached);
    this.#peer = peer;
    let sdp: string;
    try {
      sdp = await peer.makeOffer();
    } catch (err) {
      this.#report({ type: "call-ended", why: `could not make an offer (${String(err)})` });
      return;
    }
    if (this.#closed) return;
    // Time to first frame counts from the offer leaving (after the local
    // offer is made; viewer-client subscribes tx first, which is included).
    this.#offerAt = performance.now();
    this.timeline.offerSinceLoad = this.#offerAt;
    let call: Call;
    try {
      call = this.#client.call(this.#deviceId, { sdp });
    } catch (err) {
      this.#report({ type: "call-ended", why: `signaling refused the call (${String(err)})` });
      return;
    }
    this.#call = call;
    // Remote candidates go to whichever peer is current (a restart swaps it).
    call.on("candidate", (candidate) => this.#peer?.addRemoteCandidate(candidate));
    call.on("ended", (cause) => this.#onCallEnded(cause));
    // The camera went away or is being restarted (or is back): the session stays.
    call.on("source", (update) => {
      this.#report({
        type: "source",
        state: update.state,
        ...(update.reason === undefined ? {} : { reason: update.reason }),
      });
    });
    call.on("ice-restart", (reason) => this.#onCameraRestart(reason));
    const gathered = (async () => {
      await peer.gather(cached ? undefined : ((await call.iceServers) ?? []));
    })();
    Promise.all([call.answer, gathered])
      .then(([answer]) => {
        this.#mark("answer");
        return peer.acceptAnswer(answer);
      })
      .then(() => this.#answered(peer))
      .catch((err: unknown) => this.#onCallFailed(err));
  }

  /**
   * ICE restart, signaling-wise: a new offer for the same session, which the
   * camera takes as a replacement (spec, "Session rules"). The offer comes
   * from a fresh peer connection, not createOffer({iceRestart}) on the old
   * one: gateways before the in-place ICE restart answered every replacing
   * offer with a new peer (new DTLS certificate), and Chrome keeps the old
   * DTLS transport on an ICE restart, so media would never resume there
   * (seen with Chromium 156); a fresh peer connection works with every
   * gateway (docs/viewer.md). A camera's `ice-restart` request comes here too.
   */
  async restartIce(): Promise<void> {
    const call = this.#call;
    if (!call || call.ended) {
      this.#report({ type: "call-ended", why: "call lost" });
      return;
    }
    if (this.#restartPending) {
      // The last restart brought no video back: start over with backoff.
      this.#report({ type: "call-ended", why: "ICE restart brought no video back" });
      return;
    }
    this.#restartPending = true;
    this.#stopTalkTrack();
    // This call has had the camera's servers, if it gives any.
    const peer = this.#newPeer(this.#client.cachedIceServers(this.#deviceId));
    this.#peer?.close();
    this.#peer = peer;
    try {
      const sdp = await peer.makeOffer();
      if (peer !== this.#peer) return;
      void peer.gather().catch(() => undefined);
      const answer = await call.renegotiate(sdp);
      if (peer !== this.#peer) return;
      await peer.acceptAnswer(answer);
      this.#answered(peer);
    } catch (err) {
      if (peer === this.#peer) this.#onCallFailed(err);
    }
  }

  /** The current peer's control channel (docs/control.md), once open. */
  get control(): ControlClient | undefined {
    return this.#control?.open ? this.#control : undefined;
  }

  /** What the camera answered for sound (nothing before the answer). */
  get audio(): { listen: boolean; talk: boolean } {
    return this.#peer?.audioDirections() ?? { listen: false, talk: false };
  }

  /**
   * Push-to-talk: on, this browser's microphone goes to the camera's
   * speaker; off, it stops (the track ends, so the browser shows the
   * microphone unused). getUserMedia needs a secure context (HTTPS, or
   * localhost) and the person's permission; the error says which failed.
   */
  async setTalking(on: boolean): Promise<void> {
    const turn = ++this.#talkTurn;
    const peer = this.#peer;
    this.#stopTalkTrack();
    await peer?.talkSender.replaceTrack(null);
    if (!on || !peer) return;
    if (!this.audio.talk) throw new Error("this camera does not take talk-back");
    if (!window.isSecureContext || !("mediaDevices" in navigator)) {
      throw new Error("the microphone needs HTTPS (or localhost)");
    }
    const media = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    const [track] = media.getAudioTracks();
    if (turn !== this.#talkTurn || peer !== this.#peer || this.#closed || !track) {
      for (const t of media.getTracks()) t.stop();
      return;
    }
    this.#talkTrack = track;
    await peer.talkSender.replaceTrack(track);
  }

  #stopTalkTrack(): void {
    this.#talkTrack?.stop();
    this.#talkTrack = undefined;
  }

  /** A frame after start or a restart; returns the time to first frame on the first. */
  frameArrived(at: number): number | undefined {
    this.#restartPending = false;
    if (this.#offerAt === undefined || this.timeline.firstFrame !== undefined) return undefined;
    this.timeline.firstFrame = at - this.#offerAt;
    return this.timeline.firstFrame;
  }

  /** Bye to the camera, peer closed, timers off; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#graceTimer);
    clearInterval(this.#statsTimer);
    this.#stopTalkTrack();
    this.#call?.hangup();
    this.#peer?.close();
    this.#peer = undefined;
  }

  #isCurrent(peer: CameraPeerConnection): boolean {
    return peer === this.#peer && !this.#closed;
  }

  #report(event: TileEvent): void {
    if (!this.#closed) this.#hooks.report(event);
  }

  /** A peer connection whose events count only while it is the current one. */
  #newPeer(iceServers: RTCIceServer[] | undefined): CameraPeerConnection {
    const peer = new CameraPeerConnection({ iceServers: iceServers ?? [] });
    this.#monitor.useReceiver(peer.receiver);
    const current = (): boolean => this.#isCurrent(peer);
    const control = new ControlClient(peer.control);
    control.onNotice = (notice) => {
      if (current()) this.#hooks.notice(notice);
    };
    this.#control = control;
    peer.on("track", (stream) => {
      if (!current()) return;
      // After a restart the next frame of this new stream means "playing again".
      this.#monitor.rearmFirstFrame();
      this.#video.srcObject = stream;
      void this.#video.play().catch(() => undefined);
    });
    peer.on("ice-state", (state) => {
      if (!current()) return;
      if (state === "connected") this.#mark("iceConnected");
      this.#onIceState(peer, state);
    });
    peer.on("candidate", (candidate) => {
      if (current()) this.#call?.sendCandidate(candidate);
    });
    peer.pc.addEventListener("connectionstatechange", () => {
      if (current() && peer.pc.connectionState === "connected") this.#mark("connected");
    });
    return peer;
  }

  /** Records the first time the call reaches a step (relative to the offer). */
  #mark(step: keyof CallTimeline): void {
    if (this.#offerAt !== undefined && this.timeline[step] === undefined) {
      this.timeline[step] = performance.now() - this.#offerAt;
    }
  }

  #onIceState(peer: CameraPeerConnection, state: RTCIceConnectionState): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    if (state === "failed") {
      this.#report({ type: "ice-lost", state });
    } else if (state === "disconnected") {
      this.#graceTimer = setTimeout(() => {
        this.#graceTimer = undefined;
        if (peer === this.#peer && peer.pc.iceConnectionState === "disconnected") {
          this.#report({ type: "ice-lost", state });
        }
      }, DISCONNECTED_GRACE_MS);
    }
  }

  /**
   * The camera asks for an ICE restart (its address changed, or our checks
   * stopped reaching it): as if this side had lost the connection, unless
   * a restart is already under way.
   */
  #onCameraRestart(reason: string): void {
    if (this.#restartPending || this.#closed) return;
    this.#report({ type: "ice-lost", state: `lost on the camera's side (${reason})` });
  }

  #onCallEnded(cause: CallEndCause): void {
    // Failures ("error", "timeout") arrive through the answer promise; our own
    // hang-ups need nothing.
    if (["error", "timeout", "hangup", "closed"].includes(cause)) return;
    this.#report({ type: "call-ended", why: `the camera ended the call (${cause})` });
  }

  #onCallFailed(err: unknown): void {
    if (err instanceof CallError && (ERROR_CODES as readonly string[]).includes(err.code)) {
      this.#report({ type: "refused", code: err.code, message: err.message });
    } else if (err instanceof CallError && err.code === "timeout") {
      this.#report({ type: "call-ended", why: "no answer from the camera" });
    } else if (!(err instanceof CallError && err.code === "ended")) {
      this.#report({ type: "call-ended", why: err instanceof Error ? err.message : String(err) });
    }
  }

  #answered(peer: CameraPeerConnection): void {
    if (!this.#isCurrent(peer)) return;
    this.#hooks.audio(peer.audioDirections());
    this.#startStats();
  }

  #startStats(): void {
    if (this.#closed) return;
    clearInterval(this.#statsTimer);
    this.#lastSample = undefined;
    this.#statsTimer = setInterval(() => void this.#pollStats(), STATS_INTERVAL_MS);
  }

  async #pollStats(): Promise<void> {
    const peer = this.#peer;
    if (!peer || this.#closed) return;
    const report = await peer.getStats();
    // The call may have closed or restarted while getStats ran.
    if (!this.#isCurrent(peer)) return;
    const sample = sampleFromStats(
      report.values() as Iterable<Record<string, unknown>>,
      performance.now(),
    );
    if (sample.senderReport) {
      const { arrivedUnixMs, remoteUnixMs } = sample.senderReport;
      this.#monitor.captureClock.observeSenderReport(arrivedUnixMs, remoteUnixMs);
    }
    const stats = summarizeStats(this.#lastSample, sample);
    this.#lastSample = sample;
    this.#hooks.stats(stats);
  }
}
