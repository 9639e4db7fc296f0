import type { EventEmitter } from "node:events";
import type { AccessUnit } from "./access-unit.js";

export interface SourceInfo {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/**
 * Whether frames flow, as viewers are told (docs/signaling.md, "source"):
 * `live` (or idle, nothing wrong known), `recovering` (a watchdog is
 * restarting the encoder, camera or command), `unavailable` (the camera or
 * command is gone; it is reopened as soon as it is back).
 */
export type SourceState = "live" | "recovering" | "unavailable";

/** Why a source is not live. */
export type SourceProblem =
  /** The camera or its encoder went away (unplug, ENODEV). */
  | "unplugged"
  /** The device or command failed otherwise (an ioctl error, bad output). */
  | "error"
  /** Frames were captured but none came out of the encoder (the watchdog fired). */
  | "encoder-stalled"
  /** The camera stopped delivering frames (the watchdog fired). */
  | "camera-stalled"
  /** The pipe command exited. */
  | "command-exited"
  /** The pipe command stopped writing (the watchdog fired). */
  | "command-quiet";

export interface SourceStatus {
  readonly state: SourceState;
  /** Absent while live. */
  readonly reason?: SourceProblem;
}

export const LIVE: SourceStatus = { state: "live" };

export interface H264SourceEvents {
  frame: [AccessUnit];
  /** An access unit of the second, lower encoding (startLayer), on the same capture clock. */
  layerFrame: [AccessUnit];
  /** A failure the source could not recover from by itself: its viewers must go. */
  error: [Error];
  /** The source ended (device unplugged, pipe command exited) and will not come back by itself. */
  end: [];
  /** A problem the source is handling by itself (for the log); no action needed. */
  warning: [Error];
  /** The source's status changed (a source that recovers by itself emits it). */
  state: [SourceStatus];
}

/**
 * Counters a source keeps, for /metrics (camgw_source_<name in snake_case>).
 * A source reports what it can know: a camera through the addon all of
 * them, a pipe command only what reaches JavaScript.
 */
export interface SourceStats {
  /** Access units handed to JavaScript. */
  framesDelivered: number;
  /** Frames the camera captured. */
  framesCaptured?: number;
  /** Frames the encoder produced. */
  framesEncoded?: number;
  /** Frames dropped before JavaScript: queue full, encoder busy, corrupt. */
  framesDropped?: number;
  /** Camera frames not encoded to hold a lower frame rate (setFrameRate). */
  framesDecimated?: number;
  /** Mean encode time per frame, microseconds. */
  encodeTimeMeanUs?: number;
  /** Encoded frames waiting for JavaScript. */
  queueDepth?: number;
  /** Times the source stopped being live (unavailable or recovering). */
  outages?: number;
  /** Milliseconds spent not live while wanted, all outages together. */
  outageMs?: number;
  /** How long the last outage lasted, ms (0 before the first). */
  lastOutageMs?: number;
  /** The camera or command was reopened after it had gone (unplug, exit, error). */
  reopens?: number;
  /** Attempts to reopen that failed (the device was still absent or failing). */
  reopenFailures?: number;
  /** Watchdog restarts for an encoder that took frames and gave none. */
  encoderRestarts?: number;
  /** Watchdog restarts for a camera (or pipe command) that delivered nothing. */
  stallRestarts?: number;
  /** Switches to the software encoder after the hardware one stalled again right after a restart. */
  encoderFallbacks?: number;
  /** Times the source was given up for good (viewers got bye source-lost). */
  givenUp?: number;
  /** 1 while live (or idle), 0 while unavailable or recovering. */
  live?: number;
  /**
   * 1 while the open pipeline encodes with x264: chosen (Pi 5, x86), the
   * fallback after a hardware stall, or `auto` finding no M2M encoder on a
   * reopen (an encoder unplugged); 0 otherwise.
   */
  softwareEncoder?: number;
}

/** A second, lower encoding of the same capture (H264Source.startLayer). */
export interface LayerSettings {
  /** Even, at most the capture size. */
  readonly width: number;
  readonly height: number;
  readonly bitrateKbps: number;
}

/** What a snapshot asks of a source (media/source.ts `snapshot`). */
export interface SourceSnapshotOptions {
  /** JPEG width, 16 .. the source's width; default the source's. */
  width?: number;
  /** JPEG quality 1..100; default 80. */
  quality?: number;
  /** How long to wait for the next frame; default 1000 ms. */
  timeoutMs?: number;
}

/** The next captured frame as JPEG. */
export interface SourceSnapshot {
  jpeg: Buffer;
  width: number;
  height: number;
  /** CLOCK_REALTIME at capture, microseconds since the epoch. */
  captureTimeUs: number;
}

/**
 * A source of H.264 access units. The session manager starts it when the
 * first viewer arrives and stops it when the last leaves; start() after
 * stop() must work (a camera is reopened, a pipe command is respawned).
 */
export interface H264Source extends EventEmitter<H264SourceEvents> {
  readonly info: SourceInfo;
  /** A short label for logs and /healthz, e.g. "v4l2:/dev/video0". */
  readonly name: string;
  /**
   * Which encoder makes the H.264, for people (the start-up line), e.g.
   * "hardware (V4L2 M2M /dev/video11)"; absent where camgw cannot know (a pipe command).
   */
  readonly encoder?: string;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Ask for an IDR as soon as possible; a no-op where the source cannot. */
  requestKeyFrame(): void;
  /** Change the target bitrate while running, where the encoder allows. */
  setBitrate(kbps: number): void;
  /**
   * Encode at most `fps` frames a second from now on (at or above the
   * camera's rate: every frame), where the source can: the camera streams
   * on and the frames between are not encoded, the encoder spends its
   * bitrate on the rest, no restart and no key frame. `info.fps` stays the
   * camera's. Throws SourceError where it cannot (the camera's own H.264).
   * Absent where it never can (a pipe command).
   */
  setFrameRate?(fps: number): void;
  /**
   * Capture at another size from now on, where the source can (a camera:
   * the pipeline restarts, and the first frame after it is a key frame
   * with the new SPS). Absent where it cannot (a pipe command).
   */
  resize?(size: { width: number; height: number }): Promise<void>;
  /**
   * Starts (or, at another size, replaces) a second, lower encoding of the
   * same capture, emitted as `layerFrame` from a key frame on; it lasts
   * across restarts until stopLayer(). Returns the encoder it runs on, for
   * the log. Throws SourceError where it cannot run (the camera's own
   * H.264, an encoder refused). Absent where the source has no raw frames
   * to scale (a pipe command).
   */
  startLayer?(settings: LayerSettings): string;
  stopLayer?(): void;
  setLayerBitrate?(kbps: number): void;
  requestLayerKeyFrame?(): void;
  /** Stops and releases everything; safe to call twice. */
  close(): Promise<void>;
  /** Its counters, where the source keeps any; null while it has nothing open to ask. */
  stats?(): SourceStats | null;
  /** What viewers are told; a source that never recovers by itself may leave it out (live). */
  readonly status?: SourceStatus;
  /**
   * The next raw frame as JPEG, while running; rejects with the addon's
   * NativeSnapshotError (its `reason`). Absent where there are no raw frames
   * (a pipe command's H.264).
   */
  snapshot?(options: SourceSnapshotOptions): Promise<SourceSnapshot>;
}
