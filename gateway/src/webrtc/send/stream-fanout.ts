import { EventEmitter } from "node:events";
import type { BandwidthEstimate } from "../../congestion/bandwidth-estimator.js";
import { RateWindow } from "../../congestion/rate-window.js";
import type { AccessUnit } from "../../media/access-unit.js";
import { LIVE, type H264Source, type SourceStatus } from "../../media/source.js";
import { H264Payloader } from "../../rtp/h264-payloader.js";
import { PacketHistory } from "../../rtp/packet-history.js";
import { RtpPacketizer } from "../../rtp/packetizer.js";
import { DEFAULT_PROFILE_LEVEL_ID, profileLevelIdFromAccessUnit } from "../h264-profile.js";
import { BitratePolicy, type BitratePolicyOptions } from "./bitrate-policy.js";
import { drainTimeMs, KeyFrameRequester } from "./keyframe-requester.js";
import type { LayerName } from "./layer-policy.js";
import {
  DegradationPolicy,
  type DegradationMode,
  type StreamQuality,
} from "./degradation-policy.js";
import { SecondEncoding } from "./second-encoding.js";
import { SourceRunner } from "./source-runner.js";
import type { FrameSink, KeyFrameRequestKind } from "./video-sender.js";

/**
 * One stream (one source) and the viewers watching it. Each access unit is
 * packetized once into immutable Buffers and the same Buffers go to every
 * viewer's FrameSink (its VideoSender, with its own werift track: werift
 * mutates the RtpPacket objects it parses from them, per sender, never the
 * bytes). The source runs only while someone watches or holds it (a
 * snapshot, `hold()`), unless `keepWarm`.
 */

export interface StreamFanoutOptions {
  id: string;
  source: H264Source;
  maxPayloadSize?: number;
  historyPackets?: number;
  /** A PLI this soon after an IDR went out is served by it (keyframe-requester.ts). */
  keyFrameInFlightMs?: number;
  keepWarm?: boolean;
  /** profile-level-id to assume until the first SPS is seen (default 42e01f). */
  profileLevelId?: string;
  /**
   * The encoder follows the lowest viewer estimate within these bounds
   * (bitrate-policy.ts); absent, the source keeps its configured rate.
   */
  bitrate?: BitratePolicyOptions;
  /**
   * With `bitrate`: what steps down when the bitrate alone cannot fit, and
   * back up (degradation-policy.ts): the capture size where the source can
   * resize (maintain-framerate), the frame rate where it can skip frames
   * (maintain-resolution), or the frame rate then the size (balanced).
   * Absent, only the bitrate moves.
   */
  degradation?: DegradationMode;
  /**
   * With `bitrate`: a viewer far below the others watches a second, lower
   * encoding of the same camera (second-encoding.ts) where the source can
   * make one, instead of holding the main encoding down (default false).
   */
  lowEncoding?: boolean;
}

export interface StreamFanoutEvents {
  /** The source failed or ended; every viewer of the stream must go. */
  sourceLost: [Error | undefined];
  /**
   * A viewer's bandwidth estimate changed: what an encoder policy for this
   * stream follows (with `viewerEstimates` for all of them at once).
   */
  viewerEstimate: [FrameSink, BandwidthEstimate];
  /** The source is live again, recovering, or unavailable: its viewers are told. */
  state: [SourceStatus];
  /**
   * The resolution policy asked the source for another size (`error` when
   * the source refused it; the policy then leaves the size alone).
   */
  resized: [{ width: number; height: number }, Error | undefined];
  /**
   * The degradation policy asked the source for another frame rate
   * (`error` when the source refused it; the policy then leaves the frame
   * rate alone).
   */
  frameRate: [number, Error | undefined];
  /** The second, lower encoding started (its size and encoder), or stopped. */
  lowEncoding: [{ width: number; height: number; encoder: string } | null];
  /** The source cannot make a second encoding; every viewer stays on the main one. */
  lowEncodingFailed: [Error];
  /** A viewer now watches the main or the low encoding. */
  viewerMoved: [FrameSink, LayerName];
}

export interface StreamFanoutStats {
  frames: number;
  packets: number;
  bytes: number;
  /** Access units the payloader refused (malformed Annex-B). */
  badFrames: number;
  keyFrameRequests: number;
  keyFramesRequestedFromSource: number;
}

export function emptyFanoutStats(): StreamFanoutStats {
  return {
    frames: 0,
    packets: 0,
    bytes: 0,
    badFrames: 0,
    keyFrameRequests: 0,
    keyFramesRequestedFromSource: 0,
  };
}

export class StreamFanout extends EventEmitter<StreamFanoutEvents> {
  readonly id: string;
  readonly source: H264Source;
  readonly history: PacketHistory;
  /** profile-level-id of the stream, from the latest SPS seen. */
  profileLevelId = DEFAULT_PROFILE_LEVEL_ID;
  readonly stats: StreamFanoutStats = emptyFanoutStats();
  private readonly packetizer: RtpPacketizer;
  private readonly keyFrames: KeyFrameRequester;
  private readonly keepWarm: boolean;
  private readonly viewers = new Set<FrameSink>();
  private readonly estimates = new Map<FrameSink, BandwidthEstimate>();
  private readonly rate = new RateWindow(1000);
  private readonly bitrate: BitratePolicy | null;
  private degradation: DegradationPolicy | null = null;
  private readonly second: SecondEncoding | null = null;
  /** A resize the resolution policy asked for is under way. */
  private resizing = false;
  /** The size the source took at the policy's last resize. */
  private resizedTo: { width: number; height: number } | null = null;
  /** Sizes the policy asked for ("WxH") and what the source took for each. */
  private readonly sizeTaken = new Map<string, string>();
  /** Holders that keep the source running with no viewer (snapshots). */
  private holds = 0;
  private readonly runner: SourceRunner;
  private closed = false;
  /** Re-decides the bitrate when a raise the policy held back is due. */
  private raiseTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last IDR's RTP bytes: how long one takes to reach a slow viewer. */
  private lastKeyFrameBytes = 0;

  private readonly onFrame = (au: AccessUnit): void => this.fanOut(au);
  private readonly onError = (error: Error): void => this.lost(error);
  private readonly onEnd = (): void => this.lost(undefined);
  private readonly onState = (status: SourceStatus): void => {
    // A restarted encoder owes nothing it was asked before; its first frame is an IDR.
    this.keyFrames.reset();
    this.second?.reset();
    this.emit("state", status);
  };

  constructor(options: StreamFanoutOptions) {
    super();
    this.id = options.id;
    this.source = options.source;
    this.runner = new SourceRunner(this.source, {
      startFailed: (error) => this.emit("sourceLost", error),
      stopping: () => this.keyFrames.reset(),
    });
    this.keepWarm = options.keepWarm ?? false;
    this.profileLevelId = options.profileLevelId ?? DEFAULT_PROFILE_LEVEL_ID;
    this.history = new PacketHistory(options.historyPackets);
    this.bitrate = options.bitrate
      ? new BitratePolicy(options.bitrate, (kbps) => {
          this.source.setBitrate(kbps);
          this.keyFrames.rateChanged(kbps);
        })
      : null;
    if (options.bitrate && options.degradation) {
      const { width, height, fps } = this.source.info;
      const policy = new DegradationPolicy(
        {
          mode: options.degradation,
          base: { width, height, fps },
          maxKbps: options.bitrate.maxKbps,
          can: { resize: !!this.source.resize, frameRate: !!this.source.setFrameRate },
        },
        (to, from) => this.degrade(to, from),
      );
      if (policy.canDegrade) this.degradation = policy;
    }
    this.packetizer = new RtpPacketizer({
      payloader: new H264Payloader({ maxPayloadSize: options.maxPayloadSize }),
    });
    if (options.bitrate && options.lowEncoding === true && this.source.startLayer) {
      const second = new SecondEncoding({
        source: this.source,
        timestampOffset: this.packetizer.timestampOffset,
        bitrate: options.bitrate,
        maxPayloadSize: options.maxPayloadSize,
        historyPackets: options.historyPackets,
        keyFrameInFlightMs: options.keyFrameInFlightMs,
        requestMainKeyFrame: () => this.keyFrames.request(true),
        viewers: () => this.viewers,
      });
      second.on("started", (size, encoder) => this.emit("lowEncoding", { ...size, encoder }));
      second.on("stopped", () => this.emit("lowEncoding", null));
      second.on("failed", (error) => this.emit("lowEncodingFailed", error));
      second.on("moved", (viewer, layer) => this.emit("viewerMoved", viewer, layer));
      this.second = second;
    }
    this.keyFrames = new KeyFrameRequester(
      () => {
        this.stats.keyFramesRequestedFromSource++;
        this.source.requestKeyFrame();
      },
      { inFlightMs: options.keyFrameInFlightMs },
    );
    if (this.bitrate) this.keyFrames.rateChanged(this.bitrate.targetKbps);
    this.source.on("frame", this.onFrame);
    this.source.on("error", this.onError);
    this.source.on("end", this.onEnd);
    this.source.on("state", this.onState);
  }

  /** What the stream's viewers are told about its source. */
  get status(): SourceStatus {
    return this.source.status ?? LIVE;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** What the stream sends each viewer, bit/s, over the last second (RTP bytes). */
  get bitrateBps(): number {
    return this.rate.rateBps(performance.now());
  }

  /** What the encoder is asked for, kbit/s; null when it does not follow the viewers. */
  get encoderTargetKbps(): number | null {
    return this.bitrate?.targetKbps ?? null;
  }

  /** Frames a second the main encoder is given: the camera's unless a frame-rate step lowered it. */
  get encoderFps(): number {
    return this.degradation?.current.fps ?? this.source.info.fps;
  }

  /** What the second, lower encoder is asked for, kbit/s; null while it does not run. */
  get lowEncoderTargetKbps(): number | null {
    return this.second?.targetKbps ?? null;
  }

  /** The encoding a viewer is sent now: the main one unless it was moved to the low one. */
  encodingOf(viewer: FrameSink): LayerName {
    return this.second?.watchedBy(viewer) ?? "main";
  }

  /** What the stream sends `viewer`, bit/s, over the last second: its encoding's rate. */
  bitrateBpsFor(viewer: FrameSink): number {
    const second = this.second;
    return second?.watchedBy(viewer) === "low" ? second.bitrateBps : this.bitrateBps;
  }

  /** The latest bandwidth estimate of every viewer that has one. */
  get viewerEstimates(): ReadonlyMap<FrameSink, BandwidthEstimate> {
    return this.estimates;
  }

  /** A viewer's estimate changed (the session manager relays its sender's `estimate`). */
  updateEstimate(viewer: FrameSink, estimate: BandwidthEstimate): void {
    if (!this.viewers.has(viewer)) return;
    this.estimates.set(viewer, estimate);
    this.followEstimates();
    this.emit("viewerEstimate", viewer, estimate);
  }

  attach(viewer: FrameSink): void {
    if (this.closed) return;
    this.viewers.add(viewer);
    this.setRunning(true);
  }

  detach(viewer: FrameSink): void {
    this.viewers.delete(viewer);
    this.second?.remove(viewer);
    // The weakest viewer leaving frees the others from its limit.
    if (this.estimates.delete(viewer) || this.viewers.size === 0) this.followEstimates();
    if (this.idle()) this.setRunning(false);
  }

  /**
   * Keeps the source running without a viewer (a snapshot of a camera nobody
   * watches) until the returned function is called; calling it twice is harmless.
   */
  hold(): () => void {
    if (this.closed) return () => undefined;
    this.holds++;
    this.setRunning(true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.idle()) this.setRunning(false);
    };
  }

  private idle(): boolean {
    return this.viewers.size === 0 && this.holds === 0 && !this.keepWarm;
  }

  /**
   * The encoder's bitrate, then its size or frame rate, follow the viewers'
   * estimates; again when a raise the bitrate policy held back, or a
   * degradation step held, is due (an estimate
   * resting at its ceiling sends no new one to re-decide on).
   */
  private followEstimates(): void {
    if (!this.bitrate || this.closed) return;
    // Who watches which encoding first: the main one follows only its own viewers.
    this.second?.update(this.estimates);
    const kbps = this.bitrate.update(
      this.second ? this.second.mainEstimates(this.estimates) : this.estimates.values(),
    );
    this.degradeFor(kbps);
    clearTimeout(this.raiseTimer);
    this.raiseTimer = undefined;
    // The earliest of the held raises and the degradation policy's hold.
    const dues = [
      this.second?.raiseDueAtMs,
      this.bitrate.raiseDueAtMs,
      this.degradation?.dueAtMs,
    ].filter((d) => d !== undefined);
    if (dues.length > 0) {
      this.raiseTimer = setTimeout(
        () => this.followEstimates(),
        Math.max(0, Math.min(...dues) - performance.now()),
      );
      this.raiseTimer.unref();
    }
  }

  /** The size or frame rate follows the encoder's target (degradation-policy.ts). */
  private degradeFor(kbps: number): void {
    const policy = this.degradation;
    if (!policy || this.resizing) return;
    if (this.viewers.size === 0) {
      policy.reset();
      return;
    }
    if (this.estimates.size === 0) return;
    // Resized by someone else (a viewer's control command): the full size now.
    const { width, height } = this.source.info;
    const mine = this.resizedTo ?? policy.current;
    if (width !== mine.width || height !== mine.height) {
      this.resizedTo = null;
      const fps = policy.current.fps;
      policy.rebase({ width, height });
      if (policy.current.fps !== fps) this.setFrameRate(policy.current.fps);
    }
    policy.update(kbps);
  }

  /** The degradation policy's step: a new size costs a key frame, a new frame rate does not. */
  private degrade(to: StreamQuality, from: StreamQuality): void {
    if (to.fps !== from.fps) this.setFrameRate(to.fps);
    if (to.width !== from.width || to.height !== from.height)
      this.resizeTo({ width: to.width, height: to.height });
  }

  private setFrameRate(fps: number): void {
    try {
      this.source.setFrameRate?.(fps);
      this.emit("frameRate", fps, undefined);
    } catch (err) {
      // The camera's own H.264 cannot skip frames: sizes only, if any.
      this.degradation?.withdraw("frameRate");
      this.emit("frameRate", fps, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private resizeTo(size: { width: number; height: number }): void {
    const resize = this.source.resize?.bind(this.source);
    if (!resize) return;
    const asked = `${size.width}x${size.height}`;
    const current = this.source.info;
    // A source that reopens its camera for a size (the camera's own H.264)
    // gets the nearest size the camera has; a step that rounded to the size
    // running now would only restart it. (A raw camera scales to the size
    // asked, exactly.)
    if (this.sizeTaken.get(asked) === `${current.width}x${current.height}`) return;
    this.resizing = true;
    resize(size).then(
      () => {
        this.resizing = false;
        const { width, height } = this.source.info;
        this.sizeTaken.set(asked, `${width}x${height}`);
        this.resizedTo = { width, height };
        this.emit("resized", { width, height }, undefined);
      },
      (err: unknown) => {
        this.resizing = false;
        // Refused (the encoder or device has no such size): keep what works,
        // and stop trying rather than every few seconds.
        this.degradation?.withdraw("resize");
        this.emit("resized", size, err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  /**
   * A viewer asked for an IDR: passed on at once unless one already serves
   * it. `rateBps`: the asker's estimate, for how long an IDR takes to reach
   * it. `viewer`: the asker, whose encoding (main or low) is the one asked.
   */
  requestKeyFrame(
    kind: KeyFrameRequestKind,
    roundTripMs?: number,
    rateBps?: number,
    viewer?: FrameSink,
  ): void {
    this.stats.keyFrameRequests++;
    // A viewer that joined, or whose path just drained, has no IDR on its way.
    const fresh = kind === "join" || kind === "drained";
    if (viewer && this.second?.requestKeyFrame(viewer, fresh, roundTripMs, rateBps)) return;
    this.keyFrames.request(fresh, roundTripMs, drainTimeMs(this.lastKeyFrameBytes, rateBps));
  }

  /** Starts the source now (keepWarm: the first viewer needn't wait for it). */
  warmUp(): Promise<void> {
    this.setRunning(true);
    return this.runner.settled();
  }

  /** Stops the source if this fan-out started it and drops the subscription. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.raiseTimer);
    this.second?.close();
    this.viewers.clear();
    this.estimates.clear();
    this.keyFrames.close();
    this.source.off("frame", this.onFrame);
    this.source.off("error", this.onError);
    this.source.off("end", this.onEnd);
    this.source.off("state", this.onState);
    this.setRunning(false, true);
    await this.runner.settled();
    this.history.clear();
    this.removeAllListeners();
  }

  private setRunning(want: boolean, force = false): void {
    if (this.closed && !force) return;
    this.runner.want(want);
  }

  private lost(error: Error | undefined): void {
    this.runner.failed(false);
    this.emit("sourceLost", error);
  }

  private fanOut(au: AccessUnit): void {
    if (this.viewers.size === 0 && !this.keepWarm) return;
    let frame;
    try {
      if (au.keyframe)
        this.profileLevelId = profileLevelIdFromAccessUnit(au.data) ?? this.profileLevelId;
      frame = this.packetizer.packetize(au);
    } catch {
      // A malformed access unit is dropped and counted; the next IDR recovers.
      this.stats.badFrames++;
      return;
    }
    this.stats.frames++;
    this.stats.packets += frame.packets.length;
    let bytes = 0;
    for (const p of frame.packets) bytes += p.length;
    if (frame.keyframe) {
      this.lastKeyFrameBytes = bytes;
      this.keyFrames.keyFrameSent();
    }
    this.stats.bytes += bytes;
    this.rate.add(bytes, performance.now());
    this.history.add(frame.firstSequence, frame.packets, frame.captureTimeUs);
    const second = this.second;
    for (const viewer of this.viewers) {
      if (!second || second.watchesMain(viewer, frame)) viewer.send(frame, this.history);
    }
  }
}
