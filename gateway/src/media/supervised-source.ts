import { EventEmitter } from "node:events";
import { NativeDeviceError, NativeSnapshotError } from "../../../native/lib/index.js";
import { CamgwError, SourceError } from "../errors.js";
import type { AccessUnit } from "./access-unit.js";
import { DeviceWatch } from "./device-watch.js";
import { FrameWatchdog, type PipelineProgress } from "./frame-watchdog.js";
import {
  LIVE,
  type H264Source,
  type H264SourceEvents,
  type LayerSettings,
  type SourceInfo,
  type SourceProblem,
  type SourceSnapshot,
  type SourceSnapshotOptions,
  type SourceStats,
  type SourceStatus,
} from "./source.js";

/**
 * A source that outlives its camera: it keeps one underlying source (a
 * V4l2Source or PipeSource) open, and when that one fails, ends, or stops
 * making frames, it closes it and opens a new one, for as long as it is
 * wanted, until `lostAfterMs` have passed without a live frame. Only then
 * does it emit `error` and `end`, which end the viewers' sessions
 * (`source-lost`). Meanwhile it emits `state` so viewers can be told.
 *
 * - The camera (or its encoder) went away or failed: `unavailable`. An
 *   absent device node is looked for every 250 ms growing to 1 s, and at
 *   once when inotify sees it come back (device-watch.ts); a device that is
 *   there but fails is retried with backoff (0.5 s doubling to 30 s).
 * - Frames captured and none encoded for ~3 frame intervals (frame-watchdog):
 *   the encoder stalled. The whole pipeline is closed and opened again at
 *   once (`recovering`). If it stalls again before it has been live for
 *   `stableMs` and the encoder was chosen automatically, the software
 *   encoder takes over for `fallbackHoldMs`.
 * - Nothing captured, or a pipe command gone quiet: viewers are told after
 *   `noticeMs` (`recovering`), and the source is restarted after
 *   `restartMs`, then with backoff.
 *
 * A new pipeline starts with an IDR, so every viewer gets a key frame as soon
 * as frames flow again. Counters (stats()) keep adding up across the
 * underlying sources, and count every recovery for /metrics.
 */

/** What to open: the configured pipeline, or the software-encoder fallback. */
export type OpenMode = "normal" | "fallback";

export interface FrameSize {
  width: number;
  height: number;
}

export interface RetryDelays {
  initialMs: number;
  maxMs: number;
}

export interface SupervisedSourceOptions {
  name: string;
  info: SourceInfo;
  /**
   * Opens (not starts) an underlying source at the configured size; throws
   * when the device cannot be opened. The size resize() asked for is then
   * asked of it in turn (its own resize()).
   */
  open(mode: OpenMode): H264Source;
  /** The underlying sources can change their size (resize()); a pipe command cannot. */
  resizable?: boolean;
  /** The source opened at start-up (so a bad device fails then); used until its first failure. */
  initial?: H264Source;
  /** open("fallback") gives a software encoder where "normal" gives a hardware one. */
  canFallBack?: boolean;
  /** Give up after this long without a live frame while wanted (default 5 min); 0: at the first outage. */
  lostAfterMs?: number;
  /** The device node to watch for its return (inotify); polling runs regardless. */
  devicePath?: string;
  /** Frame intervals without output that make the encoder stalled (default 3). */
  stallIntervals?: number;
  /** Most time allowed for the first frame after a (re)start (default 2000 ms). */
  startGraceMs?: number;
  /** A silent source's viewers are told after this long (default 500 ms). */
  noticeMs?: number;
  /** A silent source is restarted after this long (default 2000 ms). */
  restartMs?: number;
  /** Reopening a failing device, and repeated restarts (default 500 ms doubling to 30 s). */
  backoff?: RetryDelays;
  /** Looking for an absent device node (default 250 ms doubling to 1 s). */
  poll?: RetryDelays;
  /** Live this long and the next failure counts as a first one again (default 10 s). */
  stableMs?: number;
  /** How long the fallback encoder is kept before the configured one is tried again (default 10 min). */
  fallbackHoldMs?: number;
  now?: () => number;
}

/** The counters of the underlying sources that add up across them (the rest are gauges). */
const PIPELINE_COUNTERS = [
  "framesDelivered",
  "framesCaptured",
  "framesEncoded",
  "framesDropped",
  "framesDecimated",
] as const;

type RecoveryCounters = Required<
  Pick<
    SourceStats,
    | "outages"
    | "reopens"
    | "reopenFailures"
    | "encoderRestarts"
    | "stallRestarts"
    | "encoderFallbacks"
    | "givenUp"
  >
>;

export class SupervisedSource extends EventEmitter<H264SourceEvents> implements H264Source {
  readonly name: string;
  /**
   * Encode at another size from now on (the control channel's `resolution`,
   * control/source-control.ts; the degradation policy's size steps): the
   * underlying source's resize() (a camera scales its picture, or reopens
   * for a larger one), and every source opened after it is resized the
   * same. Absent where the underlying sources cannot (`resizable` not set:
   * a pipe command).
   */
  readonly resize?: (size: FrameSize) => Promise<void>;
  private readonly options: SupervisedSourceOptions;
  private readonly now: () => number;
  private readonly watchdog: FrameWatchdog;
  private inner: H264Source | null;
  private innerError: Error | undefined;
  private wanted = false;
  private closed = false;
  private current: SourceStatus = LIVE;
  /** When the current outage began (not live while wanted); null when there is none. */
  private outageSince: number | null = null;
  private outageMsDone = 0;
  private lastOutageMs = 0;
  /** Something failed and the next successful open is a reopen. */
  private reopening = false;
  /** Failures and restarts since the source was last live for stableMs. */
  private attempts = 0;
  private lastRestart: SourceProblem | null = null;
  private liveSince: number | null = null;
  private fallbackUntil = Number.NEGATIVE_INFINITY;
  private bitrateKbps: number | null = null;
  /** The frame rate asked (setFrameRate): carried over to every source opened after it. */
  private frameRate: number | null = null;
  /** The lower encoding asked for (startLayer): carried to every underlying source opened after it. */
  private layer: LayerSettings | null = null;
  /** The size resize() last set; null: the configured one. */
  private size: FrameSize | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private giveUpTimer: NodeJS.Timeout | undefined;
  private deviceWatch: DeviceWatch | null = null;
  /** Failed opens in a row: the backoff's exponent (an absent node's poll's too). */
  private openFailures = 0;
  private released: Promise<void> = Promise.resolve();
  private opening = false;
  private readonly past: Partial<Record<(typeof PIPELINE_COUNTERS)[number], number>> = {};
  private readonly counters: RecoveryCounters = {
    outages: 0,
    reopens: 0,
    reopenFailures: 0,
    encoderRestarts: 0,
    stallRestarts: 0,
    encoderFallbacks: 0,
    givenUp: 0,
  };

  constructor(options: SupervisedSourceOptions) {
    super();
    this.options = options;
    this.name = options.name;
    if (options.resizable) this.resize = (size) => this.resizeTo(size);
    this.now = options.now ?? (() => performance.now());
    this.watchdog = new FrameWatchdog({
      fps: options.info.fps,
      intervals: options.stallIntervals,
      startGraceMs: options.startGraceMs,
    });
    this.inner = null;
    if (options.initial) this.adopt(options.initial);
  }

  /** What it captures: the configured size until resize(), then what the device took. */
  get info(): SourceInfo {
    if (!this.size) return this.options.info;
    return this.inner?.info ?? { ...this.options.info, ...this.size };
  }

  get running(): boolean {
    return this.inner?.running ?? false;
  }

  /** The current pipeline's encoder (the software fallback shows here once it took over). */
  get encoder(): string | undefined {
    return this.inner?.encoder;
  }

  get status(): SourceStatus {
    return this.current;
  }

  /** Starts streaming; a camera that cannot be opened now is retried (state `unavailable`). */
  async start(): Promise<void> {
    if (this.closed) throw new SourceError("source is closed", { source: this.name });
    if (this.wanted) return;
    this.wanted = true;
    if (this.current.state !== "live") this.beginOutage(this.current);
    const inner = this.inner;
    if (!inner) {
      this.openNow();
      return;
    }
    try {
      await inner.start();
    } catch (err) {
      if (this.inner === inner) this.failed(problemOf(err, "error"), asError(err));
      return;
    }
    if (this.inner === inner) this.started();
  }

  /**
   * Stops streaming and any recovery under way. A camera last seen gone stays
   * `unavailable` (the status says so until it is tried again); a restart
   * that was under way is no longer, so `recovering` becomes `live`.
   */
  async stop(): Promise<void> {
    this.wanted = false;
    this.clearTimers();
    this.endOutageWindow();
    if (this.current.state === "recovering") this.setStatus(LIVE);
    await this.inner?.stop().catch(() => undefined);
  }

  /** A snapshot of the current underlying source; `not-running` while there is none. */
  snapshot(options: SourceSnapshotOptions): Promise<SourceSnapshot> {
    const inner = this.inner;
    if (!inner) {
      return Promise.reject(new NativeSnapshotError(`${this.name} is not open`, "not-running"));
    }
    if (!inner.snapshot) {
      return Promise.reject(
        new NativeSnapshotError(
          `${this.name} gives H.264, not raw frames; a snapshot would need an H.264 decoder`,
          "no-raw-frame",
        ),
      );
    }
    return inner.snapshot(options);
  }

  requestKeyFrame(): void {
    this.inner?.requestKeyFrame();
  }

  setBitrate(kbps: number): void {
    this.bitrateKbps = kbps;
    this.inner?.setBitrate(kbps);
  }

  /**
   * H264Source.setFrameRate on the underlying source, and on every one
   * opened after it. Throws SourceError when the current one cannot (a
   * pipe command; the camera's own H.264).
   */
  setFrameRate(fps: number): void {
    const inner = this.inner;
    if (inner && !inner.setFrameRate) {
      throw new SourceError(`${this.name} cannot encode at another frame rate`, {
        source: this.name,
      });
    }
    inner?.setFrameRate?.(fps);
    this.frameRate = fps;
    this.watchdog.setFrameRate(fps);
  }

  /**
   * The lower encoding (H264Source.startLayer) of the underlying source,
   * and of every one opened after it. Throws SourceError when the current
   * one cannot run it (a pipe command; the camera's own H.264).
   */
  startLayer(settings: LayerSettings): string {
    const inner = this.inner;
    if (inner && !inner.startLayer) {
      throw new SourceError(`${this.name} has no raw frames for a lower encoding`, {
        source: this.name,
      });
    }
    this.layer = settings;
    if (!inner?.startLayer) return "pending";
    try {
      return inner.startLayer(settings);
    } catch (err) {
      this.layer = null;
      throw err;
    }
  }

  stopLayer(): void {
    this.layer = null;
    this.inner?.stopLayer?.();
  }

  setLayerBitrate(kbps: number): void {
    if (this.layer) this.layer = { ...this.layer, bitrateKbps: kbps };
    this.inner?.setLayerBitrate?.(kbps);
  }

  requestLayerKeyFrame(): void {
    this.inner?.requestLayerKeyFrame?.();
  }

  private async resizeTo(size: FrameSize): Promise<void> {
    if (this.closed) throw new SourceError("source is closed", { source: this.name });
    const inner = this.inner;
    if (inner?.resize) {
      // A reopen (a larger size) is no stall: the watchdog starts over once it is done.
      clearTimeout(this.watchTimer);
      try {
        await inner.resize(size);
      } finally {
        if (this.inner === inner && this.wanted && inner.running) {
          this.watchdog.restarted(this.now());
          this.armWatch(this.watchdog.limitMs());
        }
      }
    }
    // Without a source open now (an outage), the next one is resized to it.
    this.size = size;
  }

  stats(): SourceStats {
    const cur = this.inner?.stats?.() ?? null;
    const out: SourceStats = { framesDelivered: 0 };
    for (const key of PIPELINE_COUNTERS) {
      const total = (this.past[key] ?? 0) + (cur?.[key] ?? 0);
      if (key === "framesDelivered" || this.past[key] !== undefined || cur?.[key] !== undefined)
        out[key] = total;
    }
    if (cur?.encodeTimeMeanUs !== undefined) out.encodeTimeMeanUs = cur.encodeTimeMeanUs;
    if (cur?.queueDepth !== undefined) out.queueDepth = cur.queueDepth;
    const ongoing = this.outageSince === null ? 0 : this.now() - this.outageSince;
    return {
      ...out,
      ...this.counters,
      outageMs: Math.round(this.outageMsDone + ongoing),
      lastOutageMs: Math.round(this.lastOutageMs),
      live: this.current.state === "live" ? 1 : 0,
      softwareEncoder: this.encoder?.startsWith("software") ? 1 : 0,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wanted = false;
    this.clearTimers();
    this.endOutageWindow();
    const inner = this.inner;
    this.inner = null;
    if (inner) await this.release(inner);
    this.removeAllListeners();
  }

  // ---- the underlying source --------------------------------------------

  private adopt(inner: H264Source): void {
    this.inner = inner;
    this.innerError = undefined;
    inner.on("frame", (au: AccessUnit) => {
      if (this.inner === inner) this.onFrame(inner, au);
    });
    // Not watched: the main encoding's frames say whether the camera lives.
    inner.on("layerFrame", (au: AccessUnit) => {
      if (this.inner === inner) this.emit("layerFrame", au);
    });
    inner.on("error", (err) => {
      if (this.inner !== inner) return;
      this.innerError = err;
      // A request that failed (a bitrate change) leaves it running: just log.
      if (inner.running) this.warn(err);
      else this.failed(problemOf(err, "error"), err);
    });
    inner.on("end", () => {
      if (this.inner === inner) this.failed(problemOf(this.innerError, "error"), this.innerError);
    });
    inner.on("warning", (err) => {
      if (this.inner === inner) this.warn(err);
    });
  }

  /** Closes an underlying source and keeps its counters. */
  private async release(inner: H264Source): Promise<void> {
    const last = inner.stats?.() ?? null;
    for (const key of PIPELINE_COUNTERS) {
      const value = last?.[key];
      if (value !== undefined) this.past[key] = (this.past[key] ?? 0) + value;
    }
    await inner.close().catch(() => undefined);
  }

  /**
   * Lets go of the underlying source. The next one is opened only once this
   * one is closed: a camera command (rpicam-vid) holds the camera until it
   * has exited.
   */
  private drop(): void {
    const inner = this.inner;
    this.inner = null;
    clearTimeout(this.watchTimer);
    if (inner) this.released = this.released.then(() => this.release(inner));
  }

  /** Opens and starts a new underlying source once the old one is closed; on failure, tries again later. */
  private openNow(): void {
    if (this.opening) return;
    this.opening = true;
    void this.released.then(() => {
      this.opening = false;
      this.openReleased();
    });
  }

  private openReleased(): void {
    if (!this.wanted || this.closed || this.inner) return;
    const mode: OpenMode =
      this.options.canFallBack && this.now() < this.fallbackUntil ? "fallback" : "normal";
    let inner: H264Source;
    try {
      inner = this.options.open(mode);
    } catch (err) {
      this.openFailed(err);
      return;
    }
    this.adopt(inner);
    try {
      // The bitrate asked of the one before carries over.
      if (this.bitrateKbps !== null) inner.setBitrate(this.bitrateKbps);
    } catch (err) {
      this.warn(asError(err));
    }
    try {
      if (this.frameRate !== null) inner.setFrameRate?.(this.frameRate);
    } catch (err) {
      this.warn(asError(err));
    }
    try {
      if (this.layer) inner.startLayer?.(this.layer);
    } catch (err) {
      this.layer = null;
      this.warn(asError(err));
    }
    // The size asked of the one before carries over too (a camera scales
    // to it at once; a size larger than it captures reopens it first).
    const size = this.size;
    const sized =
      size && inner.resize
        ? inner.resize(size).catch((err: unknown) => {
            this.size = null;
            this.warn(asError(err));
          })
        : Promise.resolve();
    sized
      .then(() => (this.inner === inner ? inner.start() : undefined))
      .then(
        () => {
          if (this.inner === inner) this.started();
        },
        (err: unknown) => {
          if (this.inner !== inner) return;
          this.drop();
          this.openFailed(err);
        },
      );
  }

  /** The underlying source runs (stop() may have come meanwhile: then nothing to watch). */
  private started(): void {
    if (!this.wanted) return;
    this.stopWatchingDevice();
    this.openFailures = 0;
    if (this.reopening) {
      this.reopening = false;
      this.counters.reopens++;
    }
    this.watchdog.restarted(this.now());
    this.armWatch(this.watchdog.limitMs());
  }

  private openFailed(err: unknown): void {
    this.counters.reopenFailures++;
    this.reopening = true;
    const problem = problemOf(err, "error");
    this.beginOutage({ state: "unavailable", reason: problem });
    if (!this.wanted) return;
    if (problem === "unplugged") this.retryWhenBack();
    else this.retry(delayOf(this.options.backoff ?? BACKOFF, this.openFailures));
    this.openFailures++;
  }

  // ---- failures and restarts --------------------------------------------

  /** The underlying source failed or ended: reopen it while wanted. */
  private failed(problem: SourceProblem, error: Error | undefined): void {
    const inner = this.inner;
    this.drop();
    if (!this.wanted) return; // the next start() opens a fresh one
    if (inner && this.current.state === "live" && error) this.warn(error);
    this.reopening = true;
    this.beginOutage({ state: "unavailable", reason: problem });
    if (this.options.lostAfterMs === 0) return;
    if (problem === "unplugged") this.retryWhenBack();
    else this.retry(this.attempts === 0 ? 0 : this.backoffMs());
    this.attempts++;
  }

  /** A watchdog verdict: close the pipeline (or command) and open it again. */
  private restart(problem: SourceProblem, why: string): void {
    const again = this.lastRestart === problem && this.attempts > 0;
    if (problem === "encoder-stalled") this.counters.encoderRestarts++;
    else this.counters.stallRestarts++;
    let delay = again ? this.backoffMs() : 0;
    if (problem === "encoder-stalled" && again && this.options.canFallBack) {
      // The hardware encoder hung again right after a restart: a reset does
      // not help it here (firmware-sim's enc-stop stays on; a Pi's VPU can
      // stay wedged), so the software encoder keeps the picture going.
      if (this.now() >= this.fallbackUntil) {
        this.counters.encoderFallbacks++;
        this.warn(
          new SourceError(
            `${this.name}: the hardware encoder stalled again after a restart; using the software encoder for ${Math.round(this.fallbackHoldMs() / 60_000)} min`,
            { source: this.name, reason: problem },
          ),
        );
      }
      this.fallbackUntil = this.now() + this.fallbackHoldMs();
      delay = 0;
    } else if (!again) {
      this.warn(new SourceError(`${this.name}: ${why}; restarting it`, { source: this.name }));
    }
    this.lastRestart = problem;
    this.attempts++;
    this.drop();
    this.beginOutage({ state: "recovering", reason: problem });
    this.retry(delay);
  }

  private retry(delayMs: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.openNow();
    }, delayMs);
  }

  /** The device node is gone: look for it often, and at once when inotify sees it. */
  private retryWhenBack(): void {
    const path = this.options.devicePath;
    if (path && !this.deviceWatch) {
      this.deviceWatch = new DeviceWatch(path, () => {
        if (this.retryTimer && !this.inner) this.retry(0);
      });
    }
    this.retry(delayOf(this.options.poll ?? POLL, this.openFailures));
  }

  private stopWatchingDevice(): void {
    this.deviceWatch?.close();
    this.deviceWatch = null;
  }

  /** The delay before a repeated restart (attempts >= 1). */
  private backoffMs(): number {
    return delayOf(this.options.backoff ?? BACKOFF, this.attempts - 1);
  }

  private fallbackHoldMs(): number {
    return this.options.fallbackHoldMs ?? 600_000;
  }

  // ---- frames and the watchdog ------------------------------------------

  private onFrame(inner: H264Source, au: AccessUnit): void {
    const now = this.now();
    this.watchdog.frame(now, progressOf(inner));
    if (this.current.state !== "live") this.backLive(now);
    if (this.liveSince !== null && now - this.liveSince >= (this.options.stableMs ?? 10_000)) {
      this.attempts = 0;
      this.lastRestart = null;
    }
    this.emit("frame", au);
  }

  private armWatch(delayMs: number): void {
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => this.checkFrames(), Math.ceil(delayMs));
  }

  private checkFrames(): void {
    const inner = this.inner;
    if (!this.wanted || !inner || !inner.running) return;
    const now = this.now();
    const verdict = this.watchdog.check(now, progressOf(inner));
    if (verdict.kind === "ok") {
      this.armWatch(verdict.recheckInMs);
      return;
    }
    if (verdict.kind === "encoder-stalled") {
      this.restart(
        "encoder-stalled",
        `the encoder stalled (${verdict.captured} frames captured, none encoded in ${Math.round(verdict.silentMs)} ms)`,
      );
      return;
    }
    const problem: SourceProblem = progressOf(inner) ? "camera-stalled" : "command-quiet";
    const noticeMs = this.options.noticeMs ?? 500;
    const restartMs = this.options.restartMs ?? 2000;
    if (verdict.silentMs >= restartMs) {
      this.restart(
        problem,
        `no frame for ${Math.round(verdict.silentMs)} ms (${problem === "camera-stalled" ? "the camera stalled" : "the command went quiet"})`,
      );
      return;
    }
    if (verdict.silentMs >= noticeMs) this.beginOutage({ state: "recovering", reason: problem });
    const next = verdict.silentMs < noticeMs ? noticeMs : restartMs;
    this.armWatch(next - verdict.silentMs);
  }

  // ---- status and outages -----------------------------------------------

  private beginOutage(status: SourceStatus): void {
    if (this.wanted && this.outageSince === null) {
      this.outageSince = this.now();
      this.liveSince = null;
      this.counters.outages++;
      const lostAfterMs = this.options.lostAfterMs ?? 300_000;
      clearTimeout(this.giveUpTimer);
      this.giveUpTimer = setTimeout(() => this.giveUp(), lostAfterMs);
    }
    this.setStatus(status);
  }

  private backLive(now: number): void {
    if (this.outageSince !== null) {
      this.lastOutageMs = now - this.outageSince;
      this.outageMsDone += this.lastOutageMs;
      this.outageSince = null;
    }
    clearTimeout(this.giveUpTimer);
    this.giveUpTimer = undefined;
    this.liveSince = now;
    this.setStatus(LIVE);
  }

  /** Stopped (no viewer) during an outage: its time stops counting; the status stays. */
  private endOutageWindow(): void {
    if (this.outageSince !== null) {
      this.outageMsDone += this.now() - this.outageSince;
      this.outageSince = null;
    }
  }

  private giveUp(): void {
    this.giveUpTimer = undefined;
    if (!this.wanted) return;
    const reason = this.current.reason ?? "error";
    const minutes = (this.options.lostAfterMs ?? 300_000) / 60_000;
    this.counters.givenUp++;
    this.wanted = false;
    this.clearTimers();
    this.endOutageWindow();
    this.drop();
    this.emit(
      "error",
      new SourceError(
        `${this.name} has not been live for ${round(minutes)} min (${reason}); ending its sessions`,
        { source: this.name, reason },
      ),
    );
    this.emit("end");
  }

  private setStatus(status: SourceStatus): void {
    if (status.state === this.current.state && status.reason === this.current.reason) return;
    this.current = status;
    this.emit("state", status);
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchTimer);
    clearTimeout(this.giveUpTimer);
    this.retryTimer = this.watchTimer = this.giveUpTimer = undefined;
    this.stopWatchingDevice();
  }

  private warn(error: Error): void {
    if (this.listenerCount("warning") > 0) this.emit("warning", error);
  }
}

const BACKOFF: RetryDelays = { initialMs: 500, maxMs: 30_000 };
const POLL: RetryDelays = { initialMs: 250, maxMs: 1000 };

/** initialMs doubled `attempt` times, at most maxMs. */
function delayOf(delays: RetryDelays, attempt: number): number {
  return Math.min(delays.maxMs, delays.initialMs * 2 ** Math.min(Math.max(0, attempt), 20));
}

/** The addon's counters of a camera pipeline; undefined for a source without them (a pipe). */
function progressOf(inner: H264Source): PipelineProgress | undefined {
  const s = inner.stats?.();
  if (s?.framesCaptured === undefined || s.framesEncoded === undefined) return undefined;
  return {
    // Frames a frame-rate step kept from the encoder never went in.
    captured: s.framesCaptured - (s.framesDecimated ?? 0),
    encoded: s.framesEncoded,
    ...(s.encodeTimeMeanUs === undefined ? {} : { encodeTimeUs: s.encodeTimeMeanUs }),
  };
}

const ABSENT = new Set(["ENOENT", "ENODEV", "ENXIO"]);
const PROBLEMS = new Set<string>([
  "unplugged",
  "error",
  "encoder-stalled",
  "camera-stalled",
  "command-exited",
  "command-quiet",
]);

/** What a failure means for viewers: a named reason in the error's context, or an absent device. */
export function problemOf(err: unknown, otherwise: SourceProblem): SourceProblem {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof NativeDeviceError && ABSENT.has(e.context.errnoName)) return "unplugged";
    if (e instanceof CamgwError && typeof e.context.reason === "string") {
      if (PROBLEMS.has(e.context.reason)) return e.context.reason as SourceProblem;
    }
  }
  return otherwise;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
