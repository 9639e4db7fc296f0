import type { EventEmitter } from "node:events";
import type { AccessUnit } from "./access-unit.js";

export interface SourceInfo {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

export interface H264SourceEvents {
  frame: [AccessUnit];
  /** A failure the source could not recover from by itself. */
  error: [Error];
  /** The source ended (device unplugged, pipe command exited). */
  end: [];
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
  /** Mean encode time per frame, microseconds. */
  encodeTimeMeanUs?: number;
  /** Encoded frames waiting for JavaScript. */
  queueDepth?: number;
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
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Ask for an IDR as soon as possible; a no-op where the source cannot. */
  requestKeyFrame(): void;
  /** Change the target bitrate while running, where the encoder allows. */
  setBitrate(kbps: number): void;
  /**
   * Capture at another size from now on, where the source can (a camera:
   * the pipeline restarts, and the first frame after it is a key frame
   * with the new SPS). Absent where it cannot (a pipe command).
   */
  resize?(size: { width: number; height: number }): Promise<void>;
  /** Stops and releases everything; safe to call twice. */
  close(): Promise<void>;
  /** Its counters, where the source keeps any; null while it has nothing open to ask. */
  stats?(): SourceStats | null;
}
