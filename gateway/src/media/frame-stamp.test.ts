import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  crc8,
  decodeStampWord,
  readStamp,
  stampBandHeight,
  stampWord,
  writeStamp,
} from "./frame-stamp.js";

function grayFrame(width: number, height: number, fill = 90): Uint8Array {
  return new Uint8Array(width * height).fill(fill);
}

describe("frame stamp", () => {
  it("computes CRC-8/SMBUS (poly 0x07, init 0) like the standard check value", () => {
    // The catalogue check value of CRC-8 (poly 0x07, init 0x00, no reflection,
    // no xorout) over ASCII "123456789" is 0xF4 (Greg Cook's CRC catalogue).
    expect(crc8(Buffer.from("123456789"))).toBe(0xf4);
  });

  it("sizes the band as max(16, round(height / 45)) rows", () => {
    expect(stampBandHeight(480)).toBe(16);
    expect(stampBandHeight(720)).toBe(16);
    expect(stampBandHeight(1080)).toBe(24);
  });

  it("reads back the time it wrote at 1280x720", () => {
    const t = 1_763_700_000_123_456n;
    const frame = { data: grayFrame(1280, 720), width: 1280, height: 720 };
    writeStamp(frame, t);
    expect(readStamp(frame)).toBe(t);
  });

  it("rejects an all-black band even though its CRC passes", () => {
    expect(decodeStampWord(0n)).toBeNull();
    expect(readStamp({ data: grayFrame(640, 480, 16), width: 640, height: 480 })).toBeNull();
  });

  it("rejects a word whose CRC does not match", () => {
    const word = stampWord(1_763_700_000_000_001n);
    expect(decodeStampWord(word ^ 1n)).toBeNull();
    expect(decodeStampWord(word ^ (1n << 40n))).toBeNull();
  });

  it("reads a stamp from a picture scaled to half size", () => {
    const t = 1_700_000_000_000_000n;
    const full = { data: grayFrame(1280, 720), width: 1280, height: 720 };
    writeStamp(full, t);
    const half = new Uint8Array(640 * 360);
    for (let y = 0; y < 360; y++) {
      for (let x = 0; x < 640; x++) half[y * 640 + x] = full.data[y * 2 * 1280 + x * 2] ?? 0;
    }
    expect(readStamp({ data: half, width: 640, height: 360 }, 1280, 720)).toBe(t);
  });

  it("reads a halved picture without being told its encoded size, even over a bright scene", () => {
    // A second, lower encoding (640x360 of a 1280x720 capture) shows an 8-row
    // band; the unscaled rule would average rows 4-12, half of them scene.
    const t = 1_763_700_000_123_457n;
    const full = { data: grayFrame(1280, 720, 255), width: 1280, height: 720 };
    writeStamp(full, t);
    const half = new Uint8Array(640 * 360);
    for (let y = 0; y < 360; y++) {
      for (let x = 0; x < 640; x++) half[y * 640 + x] = full.data[y * 2 * 1280 + x * 2] ?? 0;
    }
    expect(readStamp({ data: half, width: 640, height: 360 })).toBe(t);
    expect(readStamp({ data: full.data, width: 1280, height: 720 })).toBe(t);
  });

  it("survives a real H.264 encode and decode at 1280x720 and 2 Mbit/s", () => {
    const width = 1280;
    const height = 720;
    const frames = 10;
    const times: bigint[] = [];
    const yuv = Buffer.alloc((width * height * 3 * frames) / 2, 128);
    for (let i = 0; i < frames; i++) {
      const t = 1_763_700_000_000_000n + BigInt(i) * 33_333n;
      times.push(t);
      const luma = yuv.subarray(
        (i * width * height * 3) / 2,
        (i * width * height * 3) / 2 + width * height,
      );
      for (let p = 0; p < luma.length; p++) luma[p] = (p * 7 + i * 13) & 0xff; // busy texture below the band
      writeStamp({ data: luma, width, height }, t);
    }
    const encode = spawnSync(
      "ffmpeg",
      [
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        `${width}x${height}`,
        "-r",
        "30",
        "-i",
        "-",
        "-c:v",
        "libx264",
        "-b:v",
        "2M",
        "-maxrate",
        "2M",
        "-bufsize",
        "1M",
        "-profile:v",
        "baseline",
        "-tune",
        "zerolatency",
        "-f",
        "h264",
        "-",
      ],
      { input: yuv, maxBuffer: 64 << 20 },
    );
    expect(encode.status, encode.stderr.toString()).toBe(0);
    const decode = spawnSync(
      "ffmpeg",
      ["-loglevel", "error", "-f", "h264", "-i", "-", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
      { input: encode.stdout, maxBuffer: 64 << 20 },
    );
    expect(decode.status, decode.stderr.toString()).toBe(0);
    const read: (bigint | null)[] = [];
    for (let i = 0; i < frames; i++) {
      const data = decode.stdout.subarray(i * width * height, (i + 1) * width * height);
      read.push(readStamp({ data, width, height }));
    }
    expect(read).toEqual(times);
  });
});
