import { createRequire } from "node:module";
import { splitAnnexB } from "../rtp/annexb.js";

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

/** A decoded picture's luma plane (the decoder's I420 output, Y first). */
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

export class FrameDecoder {
  private readonly decoder = new H264Decoder();
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
      if (this.decoder.decode(nal) === H264Decoder.PIC_RDY) {
        const { width, height } = this.decoder;
        // `pic` views WASM memory that the next decode overwrites: keep only luma, copied.
        picture = { width, height, luma: this.decoder.pic.slice(0, width * height) };
      }
    }
    if (slices > 0 && !picture) this.errors++;
    return picture;
  }
}
