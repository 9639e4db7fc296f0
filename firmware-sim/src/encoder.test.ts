import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SimOptions } from "./sim-env.js";
import { readStamp } from "../../gateway/src/media/frame-stamp.js";
import { runProgram } from "./test-support.js";

interface AccessUnit {
  bytes: number;
  key: number;
  ts_us: number;
  seq: number;
  copy: number;
  lat_us: number;
}
interface EncodeRun {
  aus: AccessUnit[];
  fed: number;
  got: number;
  keyframes: number;
  ts_match: number;
  last: number;
  eos: number;
  after_last: string;
  total_bytes: number;
  t0_real_us: number;
  t1_real_us: number;
}

const dir = mkdtempSync(join(tmpdir(), "camgw-sim-enc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Decodes Annex-B with the real ffmpeg into 8-bit luma frames. */
function decodeLuma(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "ffmpeg",
      ["-v", "error", "-f", "h264", "-i", file, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
      { encoding: "buffer", maxBuffer: 512 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`ffmpeg: ${stderr.toString()}`));
        else resolve(stdout);
      },
    );
  });
}

/** NAL unit types in an Annex-B stream, in order. */
function nalTypes(data: Buffer): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      types.push((data[i + 3] ?? 0) & 0x1f);
      i += 3;
    }
  }
  return types;
}

async function encode(
  mode: "dmabuf" | "mmap",
  frames: number,
  keyAt: number,
  options: SimOptions = {},
  timeoutMs = 20_000,
): Promise<[EncodeRun, string]> {
  const out = join(dir, `${mode}.h264`);
  const run = await runProgram<EncodeRun>(
    "enc_h264",
    [
      "/dev/video0",
      "/dev/video11",
      "1280",
      "720",
      "30",
      String(frames),
      "2000000",
      out,
      mode,
      String(keyAt),
      "-1",
      String(timeoutMs),
    ],
    options,
  );
  return [run, out];
}

describe("virtual H.264 encoder /dev/video11 (bcm2835-codec)", () => {
  it("encodes 1280x720 at 2 Mbps from DMABUF into H.264 whose decoded stamps read back inside the run", async () => {
    const [run, file] = await encode("dmabuf", 45, -1);
    expect(run.got).toBe(45);
    const luma = await decodeLuma(file);
    const size = 1280 * 720;
    expect(luma.length).toBe(45 * size);
    let previous = 0;
    for (let f = 0; f < 45; f++) {
      const stamp = readStamp({
        data: luma.subarray(f * size, (f + 1) * size),
        width: 1280,
        height: 720,
      });
      expect(stamp, `frame ${f}`).not.toBeNull();
      const t = Number(stamp ?? 0n);
      expect(t).toBeGreaterThanOrEqual(run.t0_real_us);
      expect(t).toBeLessThanOrEqual(run.t1_real_us);
      expect(t).toBeGreaterThan(previous);
      previous = t;
    }
  });

  it("copies each OUTPUT timestamp to its CAPTURE buffer and flags key frames", async () => {
    const [run, file] = await encode("mmap", 40, 20);
    expect(run.ts_match).toBe(run.got);
    for (const au of run.aus) expect(au.copy).toBe(1);
    expect(run.aus.filter((a) => a.key).map((a) => run.aus.indexOf(a))).toEqual([0, 20]);
    const data = readFileSync(file);
    const types = nalTypes(data);
    // SPS (7) and PPS (8) before each of the two IDRs (5): REPEAT_SEQ_HEADER=1
    expect(types.filter((t) => t === 5).length).toBeGreaterThanOrEqual(2);
    expect(types.filter((t) => t === 7).length).toBe(2);
    expect(types[0]).toBe(7);
  });

  it("drains on V4L2_ENC_CMD_STOP: LAST flag, an EOS event, then EPIPE", async () => {
    const [run] = await encode("dmabuf", 10, -1);
    expect(run.fed).toBe(10);
    expect(run.got).toBe(10);
    expect(run.last).toBe(1);
    expect(run.eos).toBe(1);
    expect(run.after_last).toBe("EPIPE");
  });

  it("holds each frame about one frame period, like the VPU, and longer when told to lag", async () => {
    const [normal] = await encode("dmabuf", 15, -1);
    for (const au of normal.aus) expect(au.lat_us).toBeGreaterThanOrEqual(33_000);
    const [lagging] = await encode("dmabuf", 15, -1, { faults: "enc-lag:ms=100" });
    for (const au of lagging.aus) expect(au.lat_us).toBeGreaterThanOrEqual(133_000);
  });

  it("stops producing when the encoder-stop fault fires", async () => {
    // The fault's clock starts when the library loads: leave a slow start room.
    const [run] = await encode("dmabuf", 90, -1, { faults: "enc-stop:at=1500ms" }, 4500);
    expect(run.got).toBeGreaterThan(3);
    expect(run.got).toBeLessThan(run.fed);
    expect(run.last).toBe(0);
  });
});
