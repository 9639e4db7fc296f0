/**
 * Reading JPEG files in tests: the frame header parsed by hand (ITU-T T.81
 * B.2: SOI, marker segments up to the SOF0 frame header, EOI at the end),
 * and the luma decoded by a real decoder, Debian's ffmpeg (deps/apt/dev).
 */
import { spawnSync } from "node:child_process";

export interface JpegHeader {
  width: number;
  height: number;
  /** 3 for YCbCr. */
  components: number;
  /** Baseline DCT (SOF0, 0xffc0). */
  baseline: boolean;
}

/**
 * The size in a JPEG's frame header (T.81 B.2.2: SOFn = FFCn, Lf, P, Y, X,
 * Nf), after checking it starts with SOI (FFD8) and ends with EOI (FFD9).
 * Throws on anything else.
 */
export function jpegHeader(jpeg: Uint8Array): JpegHeader {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error("no SOI marker");
  if (jpeg[jpeg.length - 2] !== 0xff || jpeg[jpeg.length - 1] !== 0xd9) {
    throw new Error("no EOI marker at the end");
  }
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) throw new Error(`no marker at byte ${at}`);
    const marker = jpeg[at + 1] ?? 0;
    const length = ((jpeg[at + 2] ?? 0) << 8) | (jpeg[at + 3] ?? 0);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      const b = (i: number): number => jpeg[at + 4 + i] ?? 0;
      return {
        height: (b(1) << 8) | b(2),
        width: (b(3) << 8) | b(4),
        components: b(5),
        baseline: marker === 0xc0,
      };
    }
    if (marker === 0xda) break; // start of scan before any frame header
    at += 2 + length;
  }
  throw new Error("no SOF frame header");
}

/** The picture's luma plane (width x height bytes), decoded by ffmpeg. */
export function decodeJpegLuma(jpeg: Buffer): Uint8Array {
  const r = spawnSync(
    "ffmpeg",
    ["-v", "error", "-f", "jpeg_pipe", "-i", "-", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
    { input: jpeg, maxBuffer: 1 << 28 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg could not decode the JPEG: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length);
}
