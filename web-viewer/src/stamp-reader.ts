/**
 * Reads the frame stamp (docs/frame-stamp.md) from a playing <video>: only
 * the top band is drawn into a small canvas, so a 1280x720 frame costs one
 * 1280x16 getImageData per frame, not a full-frame copy.
 */
import { lumaFromRgba, readStamp, stampBandHeight } from "../../gateway/src/media/frame-stamp.js";

export class StampReader {
  readonly #canvas: HTMLCanvasElement;
  #context: CanvasRenderingContext2D | null = null;

  constructor(doc: Document = document) {
    this.#canvas = doc.createElement("canvas");
  }

  /**
   * The capture time (µs since the Unix epoch) of the frame the video shows
   * now, or null when it carries no valid stamp. Call it from a
   * requestVideoFrameCallback so "now" is the frame just presented.
   */
  read(video: HTMLVideoElement): bigint | null {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (width === 0 || height === 0) return null;
    const band = stampBandHeight(height);
    if (this.#canvas.width !== width || this.#canvas.height !== band) {
      this.#canvas.width = width;
      this.#canvas.height = band;
      this.#context = null;
    }
    // willReadFrequently keeps the canvas in CPU memory: getImageData every
    // frame would otherwise read back from the GPU each time.
    this.#context ??= this.#canvas.getContext("2d", { willReadFrequently: true, alpha: false });
    const ctx = this.#context;
    if (!ctx) return null;
    // Source rectangle in the video's intrinsic (decoded) pixels, 1:1.
    ctx.drawImage(video, 0, 0, width, band, 0, 0, width, band);
    return readBandStamp(ctx.getImageData(0, 0, width, band).data, width, height);
  }
}

/**
 * The stamp from the RGBA pixels of just the top band (stampBandHeight rows)
 * of a `width` x `height` picture. readStamp works on the full picture, but
 * never reads below the band, so the plane can claim the full height.
 */
export function readBandStamp(
  rgba: ArrayLike<number>,
  width: number,
  height: number,
): bigint | null {
  const band = stampBandHeight(height);
  if (rgba.length < width * band * 4) return null;
  const luma = lumaFromRgba(rgba, width, band);
  return readStamp({ data: luma, width, height, stride: width });
}
