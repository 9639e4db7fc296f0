/**
 * Splits an H.264 Annex-B byte stream, arriving in arbitrary chunks, into
 * access units (ITU-T H.264 7.4.1.2.3: a new access unit starts at an access
 * unit delimiter, SPS, PPS or SEI, or at the first VCL NAL unit of a new
 * picture, i.e. one whose first_mb_in_slice is 0).
 *
 * Waiting for the next picture's first NAL unit to close the current one
 * would add a whole frame of latency. Encoders that write to a pipe
 * (rpicam-vid --inline, ffmpeg, gst-launch) write each picture in one burst,
 * so `flush()`, called once the pipe goes idle, closes a picture that has a
 * slice; a later slice of the same picture (first_mb_in_slice != 0) is still
 * accepted and emitted with the same capture time.
 */

export interface SplitUnit {
  /** Annex-B bytes of one access unit, 4-byte start codes. */
  data: Buffer;
  keyframe: boolean;
  /** True when this unit continues the previous picture (late slices). */
  continuation: boolean;
}

const START = Buffer.from([0, 0, 0, 1]);

/** NAL unit types (H.264 Table 7-1) that matter here. */
const NAL_SLICE = 1;
const NAL_IDR = 5;
const NAL_SEI = 6;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

function isVcl(type: number): boolean {
  return type >= NAL_SLICE && type <= NAL_IDR;
}

/**
 * first_mb_in_slice is the slice header's first ue(v) field; it is 0 exactly
 * when the first bit after the NAL header is 1 (Exp-Golomb code "1").
 */
function startsPicture(nal: Buffer): boolean {
  return nal.length > 1 && ((nal[1] ?? 0) & 0x80) !== 0;
}

export class AccessUnitSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private nals: Buffer[] = [];
  private hasSlice = false;
  /** A picture was flushed and late slices of it may still come. */
  private flushedPicture = false;
  private readonly maxBytes: number;

  constructor(
    private readonly emit: (unit: SplitUnit) => void,
    options: { maxAccessUnitBytes?: number } = {},
  ) {
    this.maxBytes = options.maxAccessUnitBytes ?? 8 << 20;
  }

  /** Feeds bytes; emits every access unit known to be complete. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let nalStart = this.findStart(0);
    if (nalStart < 0) {
      this.guardSize();
      return;
    }
    for (;;) {
      const bodyStart = nalStart + this.startCodeLength(nalStart);
      const next = this.findStart(bodyStart);
      if (next < 0) break;
      this.addNal(this.trimTrailingZeros(this.pending.subarray(bodyStart, next)));
      nalStart = next;
    }
    this.pending = this.pending.subarray(nalStart);
    this.guardSize();
  }

  /**
   * The input went idle: the bytes after the last start code form a whole
   * NAL unit, and a picture with a slice is complete.
   */
  flush(): void {
    // Only bytes behind a start code are a NAL unit: a pipe that never sent
    // one (a command printing an error on stdout) is not H.264, and a
    // one-byte NAL unit (end of sequence) after a 3-byte start code is one
    // (both found by fuzzing, docs/fuzzing.md).
    if (this.findStart(0) === 0 && this.pending.length > this.startCodeLength(0)) {
      const bodyStart = this.startCodeLength(0);
      this.addNal(this.trimTrailingZeros(this.pending.subarray(bodyStart)));
      this.pending = Buffer.alloc(0);
    }
    if (this.hasSlice) {
      this.emitUnit(false);
      this.flushedPicture = true;
    }
  }

  private addNal(nal: Buffer): void {
    if (nal.length === 0) return;
    const type = (nal[0] ?? 0) & 0x1f;
    const opensUnit =
      type === NAL_AUD ||
      type === NAL_SPS ||
      type === NAL_PPS ||
      type === NAL_SEI ||
      (isVcl(type) && startsPicture(nal));
    if (opensUnit && this.hasSlice) this.emitUnit(false);
    if (isVcl(type)) {
      if (!startsPicture(nal) && !this.hasSlice && this.flushedPicture && this.nals.length === 0) {
        // A late slice of the picture flush() already closed.
        this.nals.push(nal);
        this.hasSlice = true;
        this.emitUnit(true);
        return;
      }
      this.hasSlice = true;
    }
    if (opensUnit) this.flushedPicture = false;
    this.nals.push(nal);
  }

  private emitUnit(continuation: boolean): void {
    const keyframe = this.nals.some((n) => ((n[0] ?? 0) & 0x1f) === NAL_IDR);
    const parts: Buffer[] = [];
    for (const nal of this.nals) parts.push(START, nal);
    this.nals = [];
    this.hasSlice = false;
    this.emit({ data: Buffer.concat(parts), keyframe, continuation });
  }

  /** Index of the next 00 00 01 at or after `from` (backing up over a 4th zero). */
  private findStart(from: number): number {
    const i = this.pending.indexOf(START.subarray(1), from);
    if (i < 0) return -1;
    return i > from && this.pending[i - 1] === 0 ? i - 1 : i;
  }

  private startCodeLength(at: number): number {
    return this.pending[at + 2] === 1 ? 3 : 4;
  }

  /** trailing_zero_8bits (H.264 B.1.1) belong to no NAL unit. */
  private trimTrailingZeros(nal: Buffer): Buffer {
    let end = nal.length;
    while (end > 0 && nal[end - 1] === 0) end--;
    return nal.subarray(0, end);
  }

  private guardSize(): void {
    const held = this.pending.length + this.nals.reduce((n, b) => n + b.length, 0);
    if (held > this.maxBytes) {
      // Not H.264 Annex-B (no start codes), or a runaway picture: drop it
      // rather than grow without bound.
      this.pending = Buffer.alloc(0);
      this.nals = [];
      this.hasSlice = false;
      throw new RangeError(
        `no access unit boundary within ${this.maxBytes} bytes: is the input Annex-B H.264?`,
      );
    }
  }
}
