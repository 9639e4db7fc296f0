/** Plain data types of the native camera API (what crosses from C++ to JS). */

export interface FrameInterval {
  numerator: number;
  denominator: number;
}

export interface FrameSize {
  width: number;
  height: number;
  /** Seconds per frame as a fraction, fastest first. */
  intervals: FrameInterval[];
}

export interface SizeRange {
  minWidth: number;
  maxWidth: number;
  stepWidth: number;
  minHeight: number;
  maxHeight: number;
  stepHeight: number;
}

export interface FormatInfo {
  /** V4L2 fourcc as text: "YUYV", "NV12", "YU12", "H264", ... */
  fourcc: string;
  description: string;
  compressed: boolean;
  sizes: FrameSize[];
  /** Present when the driver gives a stepwise/continuous range instead of a list. */
  sizeRange?: SizeRange;
}

export type DeviceKind = "capture" | "m2m-encoder" | "other";

export interface DeviceInfo {
  path: string;
  driver: string;
  card: string;
  bus: string;
  /** V4L2_CAP_* of this node (device_caps). */
  capabilities: number;
  kind: DeviceKind;
  /** The Raspberry Pi's bcm2835-codec H.264 encoder. */
  isPiEncoder: boolean;
  multiplanar: boolean;
  /** What the node gives: capture formats, or an encoder's coded (CAPTURE) formats. */
  formats: FormatInfo[];
  /** M2M encoders: the raw formats they take (OUTPUT queue); empty otherwise. */
  inputFormats: FormatInfo[];
}

export type PixelFormat = "YUYV" | "NV12" | "YU12" | "H264";
export type EncoderChoice = "hardware" | "software" | "passthrough";
export type H264ProfileName = "constrained-baseline" | "baseline" | "main" | "high";

export interface PipelineOptions {
  device: string;
  width: number;
  height: number;
  fps: number;
  pixelFormat?: "auto" | PixelFormat;
  encoder?: "auto" | EncoderChoice;
  /** Hardware encoder node; default: the first M2M H.264 encoder (the Pi's first). */
  encoderDevice?: string;
  bitrateKbps: number;
  bitrateMode?: "cbr" | "vbr";
  /** Frames between IDRs; default 2 s worth. */
  keyframeInterval?: number;
  /** Default constrained-baseline (WebRTC-safe). */
  profile?: H264ProfileName;
  /** "3.1", "4", ...; default: the lowest level that fits size and rate. */
  level?: string;
  /** Encoded frames held for JS before the oldest are dropped; default 8. */
  queueDepth?: number;
  /**
   * Hand camera buffers to the hardware encoder as DMABUF when both drivers
   * and the layouts allow (default true); false copies every frame instead.
   */
  zeroCopy?: boolean;
}

export interface Negotiated {
  width: number;
  height: number;
  fps: number;
  pixelFormat: PixelFormat;
  encoder: EncoderChoice;
  encoderDevice?: string;
}

export interface EncodedFrame {
  /** One H.264 access unit, Annex-B. */
  data: Buffer;
  /** V4L2 buffer timestamp mapped to CLOCK_REALTIME, microseconds since the epoch. */
  captureTimeUs: number;
  keyframe: boolean;
  /** The encoded size: the camera's, or what setEncodedSize() (or startLayer()) asked. */
  width: number;
  height: number;
  /** 0: the main encoding; 1: the lower one (CameraPipeline.startLayer). */
  layer: number;
}

/** A second, lower encoding of the same capture (CameraPipeline.startLayer). */
export interface LayerOptions {
  /** Even, 16 at least and at most the camera's size. */
  width: number;
  height: number;
  bitrateKbps: number;
}

export interface PipelineStats {
  framesCaptured: number;
  framesEncoded: number;
  framesDelivered: number;
  /** Dropped in the queue to JS, skipped by a busy encoder, or corrupt. */
  framesDropped: number;
  /** Software: encode call time; hardware: OUTPUT queue to CAPTURE dequeue. */
  encodeTimeLastUs: number;
  encodeTimeMeanUs: number;
  queueDepth: number;
  /** Access units of the lower encoding (layer 1). */
  layerFramesEncoded: number;
  /** Camera frames not encoded to hold a lower frame rate (CameraPipeline.setFrameRate). */
  framesDecimated: number;
  /**
   * The camera driver's V4L2 sequence number of the last frame captured:
   * it counts the sensor's frames since the camera started streaming, so
   * it runs ahead of framesCaptured by the frames the driver lost (no
   * buffer free), and starts again from 0 when the camera is restarted.
   */
  cameraSequence: number;
}

export interface SnapshotOptions {
  /** Width of the JPEG, 16 .. the camera's width (made even, height keeps the aspect); default the camera's. */
  width?: number;
  /** JPEG quality 1..100 (libjpeg's scale); default 80. */
  quality?: number;
  /** How long to wait for the next captured frame; default 1000 ms. */
  timeoutMs?: number;
}

/** One captured frame as JPEG (baseline, 4:2:0). */
export interface Snapshot {
  jpeg: Buffer;
  width: number;
  height: number;
  /** The camera's size, before scaling. */
  sourceWidth: number;
  sourceHeight: number;
  /** V4L2 buffer timestamp mapped to CLOCK_REALTIME, microseconds since the epoch. */
  captureTimeUs: number;
}
