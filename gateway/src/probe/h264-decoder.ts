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
  ERROR: number;
  PARAM_SET_ERROR: number;
  MEMALLOC_ERROR: number;
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

export class FrameDecoder {
  private readonly decoder = new H264Decoder();
  /** NAL units the decoder refused (corrupt data, missing parameter sets). */
  errors = 0;

  /** Decodes one access unit; returns its picture, or null when none completed. */
  decode(accessUnit: Buffer): DecodedPicture | null {
    let picture: DecodedPicture | null = null;
    for (const nal of splitAnnexB(accessUnit)) {
      const result = this.decoder.decode(nal);
      if (result === H264Decoder.PIC_RDY) {
        const { width, height } = this.decoder;
        // `pic` views WASM memory that the next decode overwrites: keep only luma, copied.
        picture = { width, height, luma: this.decoder.pic.slice(0, width * height) };
      } else if (result >= H264Decoder.ERROR) {
        this.errors++;
      }
    }
    return picture;
  }
}
