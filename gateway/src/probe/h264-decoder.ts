import { createRequire } from "node:module";
import { splitAnnexB } from "../rtp/annexb.js";
import { parseSpsSize, type SpsSize } from "./h264-sps.js";

/**
 * The probe's H.264 decoder: h264bsd compiled to WebAssembly (npm
 * "h264decoder", pure JS + WASM, so it runs on any board without ffmpeg).
 * It decodes the Constrained Baseline and Baseline profiles only, which is
 * what camgw sends by default (docs/native.md).
 */
interface WasmDecoder {
  width: number;
  height: number;
  pic: Uint8Array;
  decode(nalu: Uint8Array): number;
}

interface WasmDecoderClass {
  new (): WasmDecoder;
  PIC_RDY: number;
}

const { H264Decoder } = createRequire(import.meta.url)("h264decoder") as {
  H264Decoder: WasmDecoderClass;
};

/** A decoded picture's luma plane, cropped as its SPS says (width x height, no padding). */
export interface DecodedPicture {
  width: number;
  height: number;
  luma: Uint8Array;
}

/** Coded slices (H.264 Table 7-1: types 1-5). */
function isSlice(nal: Uint8Array): boolean {
  const type = (nal[0] ?? 0) & 0x1f;
  return type >= 1 && type <= 5;
}

/**
 * The shown part of a coded luma plane (h264bsd hands out whole macroblocks,
 * and ignores the SPS cropping). Copied: `pic` views WASM memory that the
 * next decode overwrites.
 */
function croppedLuma(luma: Uint8Array, codedWidth: number, crop: SpsSize | null): Uint8Array {
  if (!crop) return luma.slice();
  const { width, height, cropLeft, cropTop } = crop;
  if (cropLeft === 0 && width === codedWidth) {
    return luma.slice(cropTop * codedWidth, (cropTop + height) * codedWidth);
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (cropTop + y) * codedWidth + cropLeft;
    out.set(luma.subarray(from, from + width), y * width);
  }
  return out;
}

export class FrameDecoder {
  private readonly decoder = new H264Decoder();
  /** The cropping of the latest SPS; null when it could not be read. */
  private sps: SpsSize | null = null;
  /**
   * Access units with a slice that completed no picture (corrupt or
   * undecodable data). h264bsd's return codes cannot tell: this build
   * answers 3 for every NAL unit that completes no picture, good or bad.
   */
  errors = 0;

  /** Decodes one access unit; returns its picture, or null when none completed. */
  decode(accessUnit: Buffer): DecodedPicture | null {
    let picture: DecodedPicture | null = null;
    let slices = 0;
    for (const nal of splitAnnexB(accessUnit)) {
      if (isSlice(nal)) slices++;
      if (((nal[0] ?? 0) & 0x1f) === 7) this.sps = spsSizeOrNull(nal);
      if (this.decoder.decode(nal) === H264Decoder.PIC_RDY) {
        const { width, height } = this.decoder;
        const crop =
          this.sps?.codedWidth === width && this.sps.codedHeight === height ? this.sps : null;
        picture = {
          width: crop?.width ?? width,
          height: crop?.height ?? height,
          luma: croppedLuma(this.decoder.pic.subarray(0, width * height), width, crop),
        };
      }
    }
    if (slices > 0 && !picture) this.errors++;
    return picture;
  }
}

/** An SPS the parser cannot read leaves the coded size in place (the decoder may still cope). */
function spsSizeOrNull(nal: Uint8Array): SpsSize | null {
  try {
    return parseSpsSize(nal);
  } catch {
    return null;
  }
}
