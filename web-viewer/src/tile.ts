/**
 * One camera being watched: drives the tile state machine (tile-state.ts)
 * from the broker, the camera's status and the call, and carries out its
 * effects: calls, ICE restarts, hang-ups and retries with backoff. The call
 * itself (signaling session + peer connection) is camera-call.ts.
 */
import type {
  ConnectionState,
  DeviceState,
  ViewerClient,
} from "../../gateway/src/signaling/viewer-client.js";
import { Backoff } from "./backoff.js";
import type { ControlReply } from "../../gateway/src/control/control-messages.js";
import { CameraCall, type CallTimeline } from "./camera-call.js";
import type { ControlClient } from "./control-client.js";
import { FrameMonitor } from "./frame-monitor.js";
import type { LatencySummary } from "./latency-series.js";
import { playbackProblem } from "./peer.js";
import type { VideoStats } from "./rtc-stats.js";
import { saveSnapshot } from "./snapshot.js";
import {
  initialModel,
  step,
  unsupportedModel,
  type Effect,
  type TileEvent,
  type TileModel,
} from "./tile-state.js";
import { TileView } from "./tile-view.js";

export type { CallTimeline } from "./camera-call.js";

/** What tests and the bench read from window.camgwStats.tiles[deviceId]. */
export interface TileSnapshot {
  readonly deviceId: string;
  readonly phase: TileModel["phase"];
  readonly detail: string;
  readonly session: string | undefined;
  readonly callsStarted: number;
  readonly iceRestarts: number;
  readonly videoWidth: number;
  readonly videoHeight: number;
  /** Frames presented (requestVideoFrameCallback) in this call. */
  readonly frames: number;
  /** HTMLVideoElement.getVideoPlaybackQuality().totalVideoFrames. */
  readonly totalVideoFrames: number;
  readonly stampedFrames: number;
  /** Offer published to first frame presented, this call. */
  readonly ttffMs: number | undefined;
  readonly timeline: CallTimeline;
  readonly latency: LatencySummary;
  /** The glass-to-glass samples held (ms, oldest first, up to 300), for benchmarks. */
  readonly latencySamples: readonly number[];
  /** Glass-to-glass from each frame's capture time (abs-capture-time), for cameras without a stamp. */
  readonly captureLatency: LatencySummary;
  readonly captureLatencySamples: readonly number[];
  readonly stats: VideoStats | undefined;
}

/** Playing but no frame for this long: the path is dead even if ICE has not noticed yet. */
const STALL_MS = 4_000;
/** Connecting for this long without a frame: give up on this attempt and retry. */
const CONNECT_TIMEOUT_MS = 15_000;

export class CameraTile {
  readonly deviceId: string;
  readonly view: TileView;
  readonly #monitor: FrameMonitor;
  readonly #backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
  readonly #busyBackoff = new Backoff({ initialMs: 5_000, maxMs: 30_000 });
  readonly #onClose: (tile: CameraTile) => void;
  readonly #watchdog: ReturnType<typeof setInterval>;
  #model: TileModel = initialModel();
  #phaseSince = performance.now();
  #client: ViewerClient | undefined;
  #detach: (() => void) | undefined;
  #call: CameraCall | undefined;
  #ttffMs: number | undefined;
  #callsStarted = 0;
  #iceRestarts = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stats: VideoStats | undefined;
  #closed = false;

  constructor(
    deviceId: string,
    options: { statsVisible: boolean; onClose: (tile: CameraTile) => void },
  ) {
    this.deviceId = deviceId;
    this.#onClose = options.onClose;
    this.view = new TileView(deviceId, {
      toggleStats: () => this.toggleStats(),
      snapshot: () => void this.snapshot(),
      toggleSound: () => this.toggleSound(),
      talk: (on) => this.talk(on),
      fullscreen: () => this.fullscreen(),
      retry: () => this.#dispatch({ type: "retry" }),
      close: () => this.close(),
    });
    this.view.setStatsVisible(options.statsVisible);
    this.#monitor = new FrameMonitor(this.view.video);
    this.#monitor.on("first-frame", (at) => {
      // Always tell the call (it clears its restart flag); only the first sets ttff.
      const ttff = this.#call?.frameArrived(at);
      this.#ttffMs ??= ttff;
      this.#dispatch({ type: "first-frame" });
    });
    this.#watchdog = setInterval(() => this.#checkProgress(), 1_000);
    const problem = playbackProblem();
    if (problem !== undefined) this.#model = unsupportedModel(problem);
    this.view.renderModel(this.#model);
    this.#render();
  }

  /** Uses this broker connection from now on (a new one after the settings change). */
  attach(client: ViewerClient): void {
    this.#detach?.();
    this.#hangup();
    this.#client = client;
    const onState = (state: ConnectionState): void =>
      this.#dispatch({ type: "broker", connected: state === "connected" });
    const onDevice = (device: DeviceState): void => {
      if (device.deviceId !== this.deviceId) return;
      this.view.setName(device.name, this.deviceId);
      this.#dispatch({ type: "status", online: device.online });
    };
    client.on("state", onState).on("device", onDevice);
    this.#detach = () => client.off("state", onState).off("device", onDevice);
    // A fresh model: what we knew about the old broker says nothing about the new one.
    if (this.#model.phase !== "unsupported") this.#model = initialModel();
    const known = client.devices.get(this.deviceId);
    if (known) onDevice(known);
    onState(client.state);
    this.view.renderModel(this.#model);
  }

  get model(): TileModel {
    return this.#model;
  }

  toggleStats(): void {
    this.setStatsVisible(!this.view.statsVisible);
  }

  setStatsVisible(visible: boolean): void {
    this.view.setStatsVisible(visible);
    this.#render();
  }

  /** Restarts ICE as if the connection had dropped (debugging aid: window.camgwDebug). */
  restartIce(): void {
    this.#dispatch({ type: "ice-lost", state: "restarted by hand" });
  }

  /** Hears the camera's microphone, or mutes it again. */
  toggleSound(): void {
    this.view.setSoundOn(this.view.video.muted);
  }

  /** Push-to-talk; a refusal (no HTTPS, no permission) shows on the button. */
  talk(on: boolean): void {
    const call = this.#call;
    if (!call) return;
    this.view.setTalking(on);
    call.setTalking(on).catch((err: unknown) => {
      if (call !== this.#call) return;
      this.view.setTalking(
        false,
        `Cannot talk: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
  }

  /** A request on the camera's control channel (docs/control.md). */
  control(request: Parameters<ControlClient["request"]>[0]): Promise<ControlReply> {
    const client = this.#call?.control;
    if (!client) return Promise.reject(new Error("no open control channel"));
    return client.request(request);
  }

  snapshot(): Promise<boolean> {
    return saveSnapshot(this.view.video, this.deviceId);
  }

  fullscreen(): void {
    const doc = this.view.root.ownerDocument;
    if (doc.fullscreenElement === this.view.root) void doc.exitFullscreen();
    else void this.view.root.requestFullscreen().catch(() => undefined);
  }

  snapshotFigures(): TileSnapshot {
    const video = this.view.video;
    return {
      deviceId: this.deviceId,
      phase: this.#model.phase,
      detail: this.#model.detail,
      session: this.#call?.session,
      callsStarted: this.#callsStarted,
      iceRestarts: this.#iceRestarts,
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      frames: this.#monitor.frames,
      totalVideoFrames: video.getVideoPlaybackQuality().totalVideoFrames,
      stampedFrames: this.#monitor.stampedFrames,
      ttffMs: this.#ttffMs,
      timeline: { ...this.#call?.timeline },
      latency: this.#monitor.latency.summary(),
      latencySamples: [...this.#monitor.latency.values()],
      captureLatency: this.#monitor.captureLatency.summary(),
      captureLatencySamples: [...this.#monitor.captureLatency.values()],
      stats: this.#stats,
    };
  }

  /** Hangs up and removes the tile; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    this.#detach?.();
    this.#hangup();
    this.view.root.remove();
    this.#onClose(this);
  }

  #dispatch(event: TileEvent): void {
    if (this.#closed) return;
    const { model, effect } = step(this.#model, event);
    if (model.phase !== this.#model.phase) this.#phaseSince = performance.now();
    // The camera went away mid-call: its next frame means the picture is back.
    if (model.phase === "unavailable" && this.#model.phase !== "unavailable")
      this.#monitor.rearmFirstFrame();
    this.#model = model;
    if (model.phase === "playing") {
      this.#backoff.reset();
      this.#busyBackoff.reset();
    }
    this.#run(effect);
    this.view.renderModel(model);
  }

  #run(effect: Effect): void {
    switch (effect) {
      case "none":
        return;
      case "call":
        this.#startCall();
        return;
      case "ice-restart":
        this.#iceRestarts++;
        if (this.#call) void this.#call.restartIce();
        else this.#dispatch({ type: "call-ended", why: "call lost" });
        return;
      case "hangup":
        this.#hangup();
        return;
      case "retry-later":
      case "retry-later-slow": {
        this.#hangup();
        const delay = (effect === "retry-later" ? this.#backoff : this.#busyBackoff).next();
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.#dispatch({ type: "retry" });
        }, delay);
        return;
      }
    }
  }

  #startCall(): void {
    this.#hangup();
    const client = this.#client;
    if (!client) return;
    this.#callsStarted++;
    this.#ttffMs = undefined;
    this.#monitor.start();
    const call = new CameraCall(client, this.deviceId, this.view.video, this.#monitor, {
      report: (event) => {
        if (call === this.#call) this.#dispatch(event);
      },
      audio: (audio) => {
        if (call === this.#call) this.view.setAudio(audio);
      },
      notice: (notice) => {
        if (call !== this.#call || notice.type !== "talk") return;
        this.view.setTalking(true, "Another viewer is talking: you are not heard until they stop");
      },
      stats: (stats) => {
        if (call !== this.#call) return;
        this.#stats = stats;
        this.#render();
      },
    });
    this.#call = call;
    void call.start();
  }

  /** Catches what no event reports: video that stopped, or never started. */
  #checkProgress(): void {
    if (!this.#model.inCall) return;
    const now = performance.now();
    const lastFrame = this.#monitor.lastFrameAt ?? this.#phaseSince;
    if (this.#model.phase === "playing" && now - lastFrame > STALL_MS) {
      this.#dispatch({ type: "ice-lost", state: `stalled (no video for ${STALL_MS / 1000} s)` });
    } else if (
      (this.#model.phase === "connecting" || this.#model.phase === "reconnecting") &&
      now - this.#phaseSince > CONNECT_TIMEOUT_MS
    ) {
      this.#dispatch({ type: "call-ended", why: `no video within ${CONNECT_TIMEOUT_MS / 1000} s` });
    }
  }

  #render(): void {
    this.view.setStamped(this.#monitor.stampedFrames > 0);
    this.view.renderFigures(
      {
        video: this.#stats,
        ttffMs: this.#ttffMs,
        latency: this.#monitor.latency.summary(),
        captureLatency: this.#monitor.captureLatency.summary(),
        frames: this.#monitor.frames,
        freezes: this.#monitor.freezes,
      },
      this.#monitor.latency.total > 0
        ? this.#monitor.latency.values()
        : this.#monitor.captureLatency.values(),
    );
  }

  /** Ends the current call, if any, and any pending retry. */
  #hangup(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#call?.close();
    this.#call = undefined;
    this.#monitor.stop();
    this.view.setAudio({ listen: false, talk: false });
  }
}
