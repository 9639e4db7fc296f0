import { EventEmitter } from "node:events";
import {
  CameraPipeline,
  NativeSnapshotError,
  type Negotiated,
  type PipelineOptions,
} from "../../../native/lib/index.js";
import { SourceError } from "../errors.js";
import type { AccessUnit } from "./access-unit.js";
import type {
  H264Source,
  H264SourceEvents,
  LayerSettings,
  SourceInfo,
  SourceSnapshot,
  SourceSnapshotOptions,
  SourceStats,
} from "./source.js";

export type V4l2SourceOptions = PipelineOptions;

/**
 * A V4L2 camera through the native addon: capture, then the Pi's hardware
 * encoder, x264, or the camera's own H.264. The same code drives a real board
 * and the virtual one (firmware-sim), which answers the same ioctls.
 *
 * The devices are opened (and formats negotiated) when the source is made,
 * so a bad device or size fails at start-up; streaming runs only between
 * start() and stop(). After an unplug the pipeline is gone: the next start()
 * opens the device again.
 */
export class V4l2Source extends EventEmitter<H264SourceEvents> implements H264Source {
  readonly name: string;
  private pipeline: CameraPipeline | null;
  private lastInfo: SourceInfo;
  private closed = false;
  /** The lower encoding asked for: started again on each pipeline opened after it. */
  private layer: LayerSettings | null = null;
  /** The frame rate asked for (setFrameRate): set again on each pipeline opened after it. */
  private frameRate: number | null = null;
  /** The size encoded when it is not the capture's (resize()): set again on each pipeline opened after it. */
  private encodedSize: { width: number; height: number } | null = null;
  /** What the camera captures: the last pipeline's negotiated size, and whether it gives H.264. */
  private capture: CaptureSize;

  private constructor(
    private options: V4l2SourceOptions,
    pipeline: CameraPipeline,
  ) {
    super();
    this.name = `v4l2:${options.device}`;
    this.pipeline = pipeline;
    this.capture = captureOf(pipeline);
    this.lastInfo = infoOf(pipeline);
    this.attach(pipeline);
  }

  /** Opens the camera; throws NativeDeviceError / TypeError with the ioctl and errno. */
  static open(options: V4l2SourceOptions): V4l2Source {
    return new V4l2Source(options, CameraPipeline.open(options));
  }

  get info(): SourceInfo {
    return this.lastInfo;
  }

  get running(): boolean {
    return this.pipeline?.running ?? false;
  }

  /** What the drivers chose, encoder included; null while no pipeline is open. */
  get negotiated(): Negotiated | null {
    return this.pipeline?.negotiated ?? null;
  }

  /** The encoder in words; undefined while no pipeline is open. */
  get encoder(): string | undefined {
    const n = this.pipeline?.negotiated;
    return n ? encoderLabel(n) : undefined;
  }

  /** How the stream is made: which encoder, format and whether buffers are shared. */
  describe(): string {
    const p = this.pipeline;
    if (!p) return `${this.name} (closed)`;
    const n = p.negotiated;
    return `${this.name} ${n.width}x${n.height}@${n.fps} ${n.pixelFormat} -> ${n.encoder}${n.encoderDevice ? ` (${n.encoderDevice})` : ""}`;
  }

  stats(): SourceStats | null {
    const p = this.pipeline?.stats();
    if (!p) return null;
    return {
      framesDelivered: p.framesDelivered,
      framesCaptured: p.framesCaptured,
      framesEncoded: p.framesEncoded,
      framesDropped: p.framesDropped,
      framesDecimated: p.framesDecimated,
      encodeTimeMeanUs: p.encodeTimeMeanUs,
      queueDepth: p.queueDepth,
    };
  }

  start(): Promise<void> {
    if (this.closed)
      return Promise.reject(new SourceError("source is closed", { source: this.name }));
    try {
      let p = this.pipeline;
      if (!p || p.closed) {
        p = CameraPipeline.open(this.options);
        this.adopt(p);
      }
      if (!p.running) p.start();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(
        new SourceError(
          `cannot start ${this.name}: ${(err as Error).message}`,
          { source: this.name },
          { cause: err },
        ),
      );
    }
  }

  stop(): Promise<void> {
    this.pipeline?.stop();
    return Promise.resolve();
  }

  requestKeyFrame(): void {
    if (this.pipeline && !this.pipeline.closed) this.pipeline.requestKeyFrame();
  }

  setBitrate(kbps: number): void {
    // What a reopen (resize(), start() after an outage) opens at: the
    // configured bitrate would undo the bitrate policy, whose target only
    // moves on a change (a resize at the 150 kbit/s floor sent 2.5-3.2
    // Mbit/s for 7 s into a capped link, congestion lab).
    this.options = { ...this.options, bitrateKbps: kbps };
    if (this.pipeline && !this.pipeline.closed) this.pipeline.setBitrate(kbps);
  }

  setFrameRate(fps: number): void {
    if (this.closed) throw new SourceError("source is closed", { source: this.name });
    const p = this.pipeline;
    if (p && !p.closed) {
      try {
        p.setFrameRate(fps);
      } catch (err) {
        throw new SourceError(
          `${this.name}: cannot encode at ${fps} fps: ${(err as Error).message}`,
          { source: this.name },
          { cause: err },
        );
      }
    }
    this.frameRate = fps;
  }

  startLayer(settings: LayerSettings): string {
    if (this.closed) throw new SourceError("source is closed", { source: this.name });
    this.layer = settings;
    const p = this.pipeline;
    if (!p || p.closed) return "pending";
    try {
      return p.startLayer(settings);
    } catch (err) {
      this.layer = null;
      throw new SourceError(
        `${this.name}: no lower encoding: ${(err as Error).message}`,
        { source: this.name },
        { cause: err },
      );
    }
  }

  stopLayer(): void {
    this.layer = null;
    if (this.pipeline && !this.pipeline.closed) this.pipeline.stopLayer();
  }

  setLayerBitrate(kbps: number): void {
    if (this.layer) this.layer = { ...this.layer, bitrateKbps: kbps };
    if (this.pipeline && !this.pipeline.closed) this.pipeline.setLayerBitrate(kbps);
  }

  requestLayerKeyFrame(): void {
    if (this.pipeline && !this.pipeline.closed) this.pipeline.requestLayerKeyFrame();
  }

  /**
   * Encodes at `size` from now on. Within what the camera captures (no
   * larger, raw frames): the pipeline scales each frame and sets its
   * encoder up again at the new size, the camera streaming on
   * (CameraPipeline.setEncodedSize; docs/native.md "Size steps"), so
   * viewers get an IDR at the new size and no pause. Larger, or from a
   * camera whose own H.264 is passed through, only the camera can make
   * that picture: it is reopened at `size` (V4L2 cannot change a streaming
   * format: VIDIOC_S_FMT is EBUSY while buffers are allocated), running
   * again if it ran. A size refused leaves the old one in place and throws
   * SourceError.
   */
  resize(size: { width: number; height: number }): Promise<void> {
    if (this.closed)
      return Promise.reject(new SourceError("source is closed", { source: this.name }));
    const c = this.capture;
    if (!c.passthrough && size.width <= c.width && size.height <= c.height) {
      try {
        this.encodeAt(size);
      } catch (err) {
        return Promise.reject(
          new SourceError(
            `cannot encode ${size.width}x${size.height}: ${(err as Error).message}`,
            { source: this.name },
            { cause: err },
          ),
        );
      }
      return Promise.resolve();
    }
    return this.reopenAt(size);
  }

  /** The size the current pipeline encodes at (and every pipeline opened after it). */
  private encodeAt(size: { width: number; height: number }): void {
    const p = this.pipeline;
    if (p && !p.closed) p.setEncodedSize(size);
    const { width, height } = this.capture;
    this.encodedSize = size.width === width && size.height === height ? null : size;
    this.lastInfo = { ...this.lastInfo, width: size.width, height: size.height };
  }

  /** Opens the camera again, capturing at `size`. */
  private reopenAt(size: { width: number; height: number }): Promise<void> {
    const options = { ...this.options, ...size };
    const wasRunning = this.running;
    this.pipeline?.close();
    this.pipeline = null;
    try {
      const pipeline = CameraPipeline.open(options);
      this.options = options;
      this.encodedSize = null;
      this.adopt(pipeline);
    } catch (err) {
      // Back to the size that worked (start() reopens it), so viewers keep a picture.
      const error = new SourceError(
        `cannot capture ${size.width}x${size.height}: ${(err as Error).message}`,
        { source: this.name },
        { cause: err },
      );
      const fail = (): never => {
        throw error;
      };
      return (wasRunning ? this.start() : Promise.resolve()).then(fail, fail);
    }
    return wasRunning ? this.start() : Promise.resolve();
  }

  /** The next captured frame as JPEG (the addon encodes it; raw pixels never reach JS). */
  async snapshot(options: SourceSnapshotOptions): Promise<SourceSnapshot> {
    const p = this.pipeline;
    if (!p || p.closed) throw new NativeSnapshotError(`${this.name} is not open`, "not-running");
    const s = await p.snapshot(options);
    return { jpeg: s.jpeg, width: s.width, height: s.height, captureTimeUs: s.captureTimeUs };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.pipeline?.close();
    this.pipeline = null;
    this.removeAllListeners();
    return Promise.resolve();
  }

  /** A pipeline just opened becomes the current one, at the encoded size asked before. */
  private adopt(pipeline: CameraPipeline): void {
    this.pipeline = pipeline;
    this.capture = captureOf(pipeline);
    this.lastInfo = infoOf(pipeline);
    this.attach(pipeline);
  }

  private attach(pipeline: CameraPipeline): void {
    pipeline.on("frame", (frame: AccessUnit & { layer: number }) =>
      this.emit(frame.layer === 1 ? "layerFrame" : "frame", frame),
    );
    this.restoreSize();
    this.restartLayer(pipeline);
    this.restoreFrameRate(pipeline);
    pipeline.on("error", (err) => {
      this.emit(
        "error",
        new SourceError(
          `${this.name}: ${err.message}`,
          { source: this.name, reason: "error" },
          { cause: err },
        ),
      );
      if (!pipeline.running) this.emit("end");
    });
    pipeline.on("unplugged", () => {
      pipeline.close();
      if (this.pipeline === pipeline) this.pipeline = null;
      this.emit(
        "error",
        new SourceError(`${this.name} was unplugged`, { source: this.name, reason: "unplugged" }),
      );
      this.emit("end");
    });
  }

  /** A pipeline opened after resize() (after an unplug) encodes at that size again, where it can. */
  private restoreSize(): void {
    const size = this.encodedSize;
    if (!size) return;
    try {
      this.encodeAt(size);
    } catch (err) {
      this.encodedSize = null;
      this.emit(
        "warning",
        new SourceError(
          `${this.name}: the size is the camera's again after reopening: ${(err as Error).message}`,
          { source: this.name },
          { cause: err },
        ),
      );
    }
  }

  /** A pipeline opened after setFrameRate() (a reopen, a resize) keeps the rate, where it can. */
  private restoreFrameRate(pipeline: CameraPipeline): void {
    if (this.frameRate === null) return;
    try {
      pipeline.setFrameRate(this.frameRate);
    } catch (err) {
      this.frameRate = null;
      this.emit(
        "warning",
        new SourceError(
          `${this.name}: the frame rate is the camera's again after reopening: ${(err as Error).message}`,
          { source: this.name },
          { cause: err },
        ),
      );
    }
  }

  /** A pipeline opened after startLayer() (a reopen, a resize) runs the layer too, if it fits. */
  private restartLayer(pipeline: CameraPipeline): void {
    const layer = this.layer;
    if (!layer) return;
    const { width, height } = pipeline.negotiated;
    // A reopen at below the layer's size: half of the new size instead.
    const fits = layer.width <= width && layer.height <= height;
    const settings = fits
      ? layer
      : { ...layer, width: Math.floor(width / 4) * 2, height: Math.floor(height / 4) * 2 };
    try {
      pipeline.startLayer(settings);
      this.layer = settings;
    } catch (err) {
      this.layer = null;
      this.emit(
        "warning",
        new SourceError(
          `${this.name}: no lower encoding after reopening: ${(err as Error).message}`,
          { source: this.name },
          { cause: err },
        ),
      );
    }
  }
}

interface CaptureSize {
  width: number;
  height: number;
  passthrough: boolean;
}

function captureOf(pipeline: CameraPipeline): CaptureSize {
  const n = pipeline.negotiated;
  return { width: n.width, height: n.height, passthrough: n.encoder === "passthrough" };
}

function infoOf(pipeline: CameraPipeline): SourceInfo {
  const n = pipeline.negotiated;
  return { width: n.width, height: n.height, fps: n.fps };
}

/** "hardware", "software" and "passthrough" as a person reads them (docs/config.md, `encoder`). */
export function encoderLabel(n: Pick<Negotiated, "encoder" | "encoderDevice">): string {
  switch (n.encoder) {
    case "hardware":
      return `hardware (V4L2 M2M${n.encoderDevice ? ` ${n.encoderDevice}` : ""})`;
    case "software":
      return "software (x264)";
    case "passthrough":
      return "the camera's own H.264 (passthrough)";
  }
}
