/**
 * The frame stamp (docs/frame-stamp.md): a band at the top of every simulated
 * frame carries a 64-bit word, 56 bits of capture time in microseconds since
 * the Unix epoch and a CRC-8, as 64 black/white cells. Any viewer that decodes
 * the picture can read it back and measure glass-to-glass latency.
 *
 * Isomorphic: used by the probe (Node) and the web viewer (browser).
 */

export const STAMP_CELLS = 64;
const WHITE = 235;
const BLACK = 16;
const THRESHOLD = 128;

/** Rows the band covers for a picture `height` rows high. */
export function stampBandHeight(height: number): number {
  return Math.max(16, Math.round(height / 45));
}

/** CRC-8, polynomial 0x07, initial value 0, no reflection, no final XOR. */
export function crc8(bytes: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i] ?? 0;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
  }
  return crc;
}

/** The seven big-endian bytes of a 56-bit microsecond time. */
function timeBytes(timeUs: bigint): number[] {
  const out: number[] = [];
  for (let i = 6; i >= 0; i--) out.push(Number((timeUs >> BigInt(i * 8)) & 0xffn));
  return out;
}

/** The 64-bit stamp word for a capture time. */
export function stampWord(timeUs: bigint): bigint {
  if (timeUs <= 0n || timeUs >= 1n << 56n)
    throw new RangeError(`stamp time out of range: ${timeUs}`);
  return (timeUs << 8n) | BigInt(crc8(timeBytes(timeUs)));
}

/** The capture time a word carries, or null when its CRC fails or it is 0. */
export function decodeStampWord(word: bigint): bigint | null {
  const timeUs = word >> 8n;
  if (timeUs === 0n) return null;
  return crc8(timeBytes(timeUs)) === Number(word & 0xffn) ? timeUs : null;
}

/**
 * A picture as one 8-bit sample per pixel (luma, or anything where 255 is
 * white) with a row stride. RGBA readers convert first (see lumaFromRgba).
 */
export interface LumaPlane {
  readonly data: ArrayLike<number>;
  readonly width: number;
  readonly height: number;
  /** Bytes from one row to the next; defaults to width. */
  readonly stride?: number;
}

/**
 * Reads the stamp from a decoded picture: the mean over the central half of
 * each cell in both directions decides its bit. `sourceWidth`/`sourceHeight`
 * give the encoded size when the picture was scaled (the spec's cells are
 * defined on the encoded frame). Without them the picture may still be a
 * downscale of a larger capture (a second, lower encoding; libwebrtc's own
 * scaling): the band of any such picture covers at least its top height/45
 * rows, so the reader samples the central half of those rows only. Reading
 * the unscaled rule instead would sample the scene below a halved band, and
 * the CRC-8 lets one such garbage word in 256 through as a time.
 */
export function readStamp(
  plane: LumaPlane,
  sourceWidth?: number,
  sourceHeight?: number,
): bigint | null {
  const stride = plane.stride ?? plane.width;
  const known = sourceWidth !== undefined && sourceHeight !== undefined;
  const srcW = known ? sourceWidth : plane.width;
  const srcH = known ? sourceHeight : plane.height;
  const sx = plane.width / srcW;
  const sy = plane.height / srcH;
  const cellW = Math.floor(srcW / STAMP_CELLS);
  if (cellW < 2) return null;
  // Rows of the band in this picture's coordinates (docs/frame-stamp.md).
  const bandRows = known ? stampBandHeight(srcH) * sy : plane.height / 45;
  const y0 = Math.floor(bandRows / 4);
  const y1 = Math.max(y0 + 1, Math.ceil((bandRows * 3) / 4));
  let word = 0n;
  for (let cell = 0; cell < STAMP_CELLS; cell++) {
    const x0 = Math.floor((cell * cellW + cellW / 4) * sx);
    const x1 = Math.max(x0 + 1, Math.ceil((cell * cellW + (cellW * 3) / 4) * sx));
    let sum = 0;
    let n = 0;
    for (let y = y0; y < y1 && y < plane.height; y++) {
      const row = y * stride;
      for (let x = x0; x < x1 && x < plane.width; x++) {
        sum += plane.data[row + x] ?? 0;
        n++;
      }
    }
    word = (word << 1n) | (n > 0 && sum / n >= THRESHOLD ? 1n : 0n);
  }
  return decodeStampWord(word);
}

/** Writes a stamp band into an 8-bit luma plane (tests and tools). */
export function writeStamp(
  plane: { data: Uint8Array | Uint8ClampedArray; width: number; height: number; stride?: number },
  timeUs: bigint,
): void {
  const stride = plane.stride ?? plane.width;
  const word = stampWord(timeUs);
  const cellW = Math.floor(plane.width / STAMP_CELLS);
  const bandH = stampBandHeight(plane.height);
  for (let y = 0; y < bandH; y++) {
    plane.data.fill(BLACK, y * stride, y * stride + plane.width);
    for (let cell = 0; cell < STAMP_CELLS; cell++) {
      if ((word >> BigInt(63 - cell)) & 1n) {
        plane.data.fill(WHITE, y * stride + cell * cellW, y * stride + (cell + 1) * cellW);
      }
    }
  }
}

/** Luma (0.299R + 0.587G + 0.114B) of the top `rows` rows of an RGBA picture. */
export function lumaFromRgba(rgba: ArrayLike<number>, width: number, rows: number): Uint8Array {
  const out = new Uint8Array(width * rows);
  for (let i = 0; i < out.length; i++) {
    const p = i * 4;
    out[i] = 0.299 * (rgba[p] ?? 0) + 0.587 * (rgba[p + 1] ?? 0) + 0.114 * (rgba[p + 2] ?? 0);
  }
  return out;
}
