import { describe, expect, it } from "vitest";
import { stampBandHeight, writeStamp } from "../../gateway/src/media/frame-stamp.js";
import { readBandStamp } from "./stamp-reader.js";

/** A grey picture with a stamp written by the reference writer, as RGBA rows of its band only. */
function bandRgba(width: number, height: number, timeUs: bigint, noise = 0): Uint8ClampedArray {
  const luma = new Uint8Array(width * height).fill(90);
  writeStamp({ data: luma, width, height }, timeUs);
  const band = stampBandHeight(height);
  const rgba = new Uint8ClampedArray(width * band * 4);
  for (let i = 0; i < width * band; i++) {
    // Decoders blur edges and shift levels a little: add a bounded wobble.
    const v = (luma[i] ?? 0) + (i % 7 === 0 ? noise : -noise);
    rgba.set([v, v, v, 255], i * 4);
  }
  return rgba;
}

describe("readBandStamp", () => {
  it("reads the capture time from the band of a 1280x720 frame", () => {
    const t = 1_763_700_000_123_456n;
    expect(readBandStamp(bandRgba(1280, 720, t), 1280, 720)).toBe(t);
  });

  it("reads it through decoder-like level noise", () => {
    const t = 1_763_700_000_999_001n;
    expect(readBandStamp(bandRgba(640, 480, t, 40), 640, 480)).toBe(t);
  });

  it("returns null for a picture with no stamp (a plain grey band)", () => {
    const rgba = new Uint8ClampedArray(1280 * 16 * 4).fill(128);
    expect(readBandStamp(rgba, 1280, 720)).toBeNull();
  });

  it("returns null when fewer pixels than the band are given", () => {
    expect(readBandStamp(new Uint8ClampedArray(100), 1280, 720)).toBeNull();
  });
});
