import { describe, expect, it } from "vitest";
import { splitAnnexB } from "../rtp/annexb.js";
import { encodeTestStream } from "../testing/test-clip.js";
import { parseSpsSize, unescapeRbsp } from "./h264-sps.js";

/** The first SPS of a stream that Debian's ffmpeg + libx264 encodes at this size and profile. */
async function spsOf(width: number, height: number, extra: string[] = []): Promise<Uint8Array> {
  const stream = await encodeTestStream({ width, height, frames: 1, extra });
  const sps = splitAnnexB(stream).find((nal) => ((nal[0] ?? 0) & 0x1f) === 7);
  if (!sps) throw new Error("no SPS in the stream");
  return sps;
}

describe("the SPS picture size", () => {
  it("crops 1920x1088 coded video to 1920x1080 (frame_crop_bottom_offset)", async () => {
    expect(parseSpsSize(await spsOf(1920, 1080))).toEqual({
      codedWidth: 1920,
      codedHeight: 1088,
      cropLeft: 0,
      cropTop: 0,
      width: 1920,
      height: 1080,
    });
  });

  it("reads sizes that need no cropping, and odd macroblock counts", async () => {
    expect(parseSpsSize(await spsOf(1280, 720))).toMatchObject({ width: 1280, height: 720 });
    expect(parseSpsSize(await spsOf(648, 362))).toMatchObject({
      codedWidth: 656,
      codedHeight: 368,
      width: 648,
      height: 362,
    });
  });

  it("reads a High profile SPS with chroma format and bit depth fields", async () => {
    const sps = await spsOf(1920, 1080, ["-profile:v", "high"]);
    expect(sps[1]).toBe(100);
    expect(parseSpsSize(sps)).toMatchObject({ width: 1920, height: 1080 });
  });

  it("skips scaling lists in the SPS (x264 puts its own in the PPS, so this one is built here)", () => {
    const w = new BitWriter();
    w.u(8, 100).u(8, 0).u(8, 40).ue(0); // High, level 4.0, sps id 0
    w.ue(1).ue(0).ue(0).u(1, 0); // 4:2:0, 8-bit, no transform bypass
    w.u(1, 1); // seq_scaling_matrix_present_flag
    w.u(1, 1); // list 0 (4x4) present: 16 deltas
    for (let j = 0; j < 16; j++) w.se(j % 2 ? -3 : 5);
    w.u(1, 1); // list 1 present, nextScale 0 at once: use the default list
    w.se(-8);
    for (let i = 2; i < 6; i++) w.u(1, 0);
    w.u(1, 1); // list 6 (8x8) present: 64 deltas
    for (let j = 0; j < 64; j++) w.se(1);
    w.u(1, 0); // list 7 absent
    w.ue(0).ue(2).ue(1).u(1, 0); // frame_num bits, POC type 2, 1 ref frame, no gaps
    w.ue(119).ue(67).u(1, 1).u(1, 1); // 120x68 macroblocks, frames only, direct 8x8
    w.u(1, 1).ue(0).ue(0).ue(0).ue(4); // crop 8 rows at the bottom
    w.u(1, 0).u(1, 1); // no VUI, rbsp stop bit
    expect(parseSpsSize(Uint8Array.from([0x67, ...w.bytes()]))).toMatchObject({
      codedHeight: 1088,
      width: 1920,
      height: 1080,
    });
  });

  it("removes emulation prevention bytes", () => {
    expect([...unescapeRbsp(Uint8Array.from([1, 0, 0, 3, 0, 0, 0, 3, 1, 3]))]).toEqual([
      1, 0, 0, 0, 0, 0, 1, 3,
    ]);
  });

  it("refuses a truncated SPS and a NAL unit that is not one", async () => {
    const sps = await spsOf(320, 240);
    expect(() => parseSpsSize(sps.subarray(0, 4))).toThrow(RangeError);
    expect(() => parseSpsSize(Uint8Array.from([0x68, 0xce]))).toThrow(/not an SPS/);
  });
});

/** Writes bits most significant first, with Exp-Golomb codes (H.264 9.1). */
class BitWriter {
  readonly #bits: number[] = [];

  u(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) this.#bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  ue(value: number): this {
    const code = value + 1;
    const length = Math.floor(Math.log2(code));
    return this.u(length, 0).u(length + 1, code);
  }

  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  bytes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#bits.length; i += 8) {
      let byte = 0;
      for (let b = 0; b < 8; b++) byte = byte * 2 + (this.#bits[i + b] ?? 0);
      out.push(byte);
    }
    return out;
  }
}
