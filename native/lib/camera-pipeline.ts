/**
 * A camera pipeline: V4L2 capture -> H.264 (hardware M2M, x264, or the
 * camera's own) on native threads, delivering access units as 'frame' events.
 */
import { loadBinding, type NativeEvent, type NativePipeline } from "./binding.js";
import { callNative, fromNative, NativeSnapshotError } from "./errors.js";
import { NativeDevice, type CommonNativeEvent, type NativeDeviceEvents } from "./native-device.js";
import type {
  EncodedFrame,
  LayerOptions,
  Negotiated,
  PipelineOptions,
  PipelineStats,
  Snapshot,
  SnapshotOptions,
} from "./types.js";

/** 'unplugged': the camera or the encoder went away. */
export interface CameraPipelineEvents extends NativeDeviceEvents {
  frame: [EncodedFrame];
}

export class CameraPipeline extends NativeDevice<
  CameraPipelineEvents,
  NativePipeline,
  NativeEvent
> {
  /** What the drivers chose (may differ from what was asked). */
  readonly negotiated: Negotiated;

  private constructor(options: PipelineOptions) {
    super("CameraPipeline", (onEvent) => new (loadBinding().NativePipeline)(options, onEvent));
    const n = this.native.negotiated();
    this.negotiated = {
      width: n.width,
      height: n.height,
      fps: n.fps,
      pixelFormat: n.pixelFormat,
      encoder: n.encoder,
      ...(n.encoderDevice === undefined ? {} : { encoderDevice: n.encoderDevice }),
    };
  }

  /** Opens the camera (and encoder) and negotiates formats; does not start streaming. */
  static open(options: PipelineOptions): CameraPipeline {
    return new CameraPipeline(options);
  }

  /** Whether camera buffers reach the hardware encoder as DMABUF (no copy); known once started. */
  get zeroCopy(): boolean {
    return !this.closed && this.native.negotiated().dmabuf;
  }

  /** Changes the target bitrate while running (applied on the encode thread). */
  setBitrate(kbps: number): void {
    this.assertOpen("setBitrate");
    this.native.setBitrate(kbps);
  }

  /**
   * Encodes at most `fps` frames a second from now on (1 .. the camera's
   * rate; more is the camera's): the camera streams on at its own rate and
   * the frames between are dropped before the main encoder, whose rate
   * control is told the new rate (x264, or VIDIOC_S_PARM on an M2M
   * encoder's OUTPUT queue). No restart, no key frame; a key frame asked
   * for is carried by the next camera frame whatever the schedule. Capture
   * times stay the camera's. The lower encoding (startLayer) keeps every
   * frame. Lasts across stop() and start(). Throws NativeDeviceError for a
   * camera whose own H.264 is passed through.
   */
  setFrameRate(fps: number): void {
    this.assertOpen("setFrameRate");
    callNative(() => {
      this.native.setFrameRate(fps);
    });
  }

  /**
   * Encodes at `size` from now on (a size step: docs/native.md, "Size
   * steps"), without reopening or restarting the camera: it streams on at
   * the negotiated size, each frame is scaled (libyuv; a centre crop when
   * the aspect ratio differs) before the main encoder, which is set up
   * again at the new size between two frames (x264 reopened; an M2M
   * encoder drained and its queues restreamed at the new size). The next
   * 'frame' is an IDR at the new size; frames before it carry the old
   * size. The negotiated size again: frames go to the encoder unscaled
   * (zero copy where it was). Lasts across stop() and start(). Throws
   * NativeDeviceError for a size that is odd, under 16x16 or larger than
   * the camera's, and for a camera whose own H.264 is passed through; an
   * encoder that refuses the size emits a non-fatal 'error' and keeps the
   * size it had.
   */
  setEncodedSize(size: { width: number; height: number }): void {
    this.assertOpen("setEncodedSize");
    callNative(() => {
      this.native.setEncodedSize(size);
    });
  }

  /** The next encoded frame (or the one after, with a hardware encoder's latency) is an IDR. */
  requestKeyFrame(): void {
    this.assertOpen("requestKeyFrame");
    this.native.requestKeyFrame();
  }

  /**
   * Starts (or, at a new size, replaces) a second, lower encoding of the
   * same capture: the camera is not opened again; each frame is scaled and
   * encoded by a second hardware encoder instance where the pipeline has
   * one, else by x264. Its access units are 'frame' events with `layer` 1,
   * carrying the same capture times; the first is an IDR. It lasts across
   * stop() and start() until stopLayer(). Returns which encoder it got;
   * throws NativeDeviceError when it cannot run (a camera that gives H.264,
   * a size larger than the camera's), and the main encoding goes on.
   */
  startLayer(options: LayerOptions): "hardware" | "software" {
    this.assertOpen("startLayer");
    return callNative(() => this.native.startLayer(options));
  }

  /** Stops the lower encoding (idempotent); its encoder is closed. */
  stopLayer(): void {
    if (this.closed) return;
    this.native.stopLayer();
  }

  /** The lower encoding's target bitrate (kept for a restart). */
  setLayerBitrate(kbps: number): void {
    this.assertOpen("setLayerBitrate");
    this.native.setLayerBitrate(kbps);
  }

  /** The lower encoding's next frame is an IDR. */
  requestLayerKeyFrame(): void {
    this.assertOpen("requestLayerKeyFrame");
    this.native.requestLayerKeyFrame();
  }

  /**
   * The next captured frame as JPEG, encoded off the JS thread (libjpeg-turbo
   * on a libuv pool thread; raw pixels never reach JavaScript). Bad options
   * throw TypeError; the rest rejects with NativeSnapshotError (its `reason`).
   */
  async snapshot(options: SnapshotOptions = {}): Promise<Snapshot> {
    if (this.closed)
      throw new NativeSnapshotError("CameraPipeline.snapshot: pipeline is closed", "stopped");
    try {
      return await callNative(() => this.native.snapshot(options));
    } catch (err) {
      throw fromNative(err);
    }
  }

  stats(): PipelineStats {
    return this.native.stats();
  }

  protected onEvent(event: Exclude<NativeEvent, CommonNativeEvent>): void {
    this.emit("frame", event[1]);
  }
}
