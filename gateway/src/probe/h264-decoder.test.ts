import { describe, expect, it } from "vitest";
import { encodeTestClip } from "../testing/test-clip.js";
import { FrameDecoder } from "./h264-decoder.js";

describe("the probe's WASM H.264 decoder", () => {
  it("decodes every picture of a real Baseline stream with no errors", async () => {
    const clip = await encodeTestClip({ width: 320, height: 240, frames: 20, gop: 10 });
    const decoder = new FrameDecoder();
    const pictures = clip.map((au) => decoder.decode(au.data));
    expect(pictures.every((p) => p?.width === 320 && p.height === 240)).toBe(true);
    expect(pictures[0]?.luma.length).toBe(320 * 240);
    expect(decoder.errors).toBe(0);
  });

  it("reports 1920x1080 video as 1920x1080, not its coded 1920x1088, with the rows cropped", async () => {
    const clip = await encodeTestClip({ width: 1920, height: 1080, frames: 2, gop: 10 });
    const decoder = new FrameDecoder();
    const pictures = clip.map((au) => decoder.decode(au.data));
    expect(pictures.map((p) => p && [p.width, p.height])).toEqual([
      [1920, 1080],
      [1920, 1080],
    ]);
    expect(pictures[0]?.luma.length).toBe(1920 * 1080);
  });

  it("counts a corrupt slice as a decode error", async () => {
    const clip = await encodeTestClip({ width: 320, height: 240, frames: 2, gop: 10 });
    const decoder = new FrameDecoder();
    decoder.decode(clip[0]?.data ?? Buffer.alloc(0));
    const corrupt = Buffer.from(clip[1]?.data ?? Buffer.alloc(0));
    // Keep the start code and NAL header of the P slice; garble its body.
    for (let i = 6; i < corrupt.length; i++) corrupt[i] = 0xff;
    decoder.decode(corrupt);
    expect(decoder.errors).toBe(1);
  });
});
