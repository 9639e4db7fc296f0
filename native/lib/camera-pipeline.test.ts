import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runOnBoard, type Profile } from "./testing/board.js";
import { checkStream } from "./testing/check-stream.js";
import { spsProfile } from "./testing/annexb.js";
import type { StreamArgs, StreamResult } from "./testing/scenarios.js";
import type { PipelineOptions } from "./types.js";

const dir = mkdtempSync(join(tmpdir(), "camgw-native-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const base: PipelineOptions = {
  device: "/dev/video0",
  width: 640,
  height: 480,
  fps: 30,
  bitrateKbps: 1500,
};

async function stream(
  profile: Profile,
  args: StreamArgs,
  faults?: string,
): Promise<StreamResult & { out: string }> {
  const out = join(dir, `s${n++}.h264`);
  const { result } = await runOnBoard<StreamResult>(
    "stream",
    { ...args, out },
    { profile, ...(faults === undefined ? {} : { faults, seed: 7 }) },
  );
  return { ...result, out };
}

/**
 * The stream parses, IDRs carry SPS/PPS, ffmpeg decodes every frame, stamps
 * match the timestamps. `unreadable`: frames whose stamp may not be read
 * (default 1).
 */
function expectValidStream(r: StreamResult & { out: string }, unreadable = 1): void {
  const c = checkStream(r.out, r.frames);
  expect(c.problems).toEqual([]);
  expect(r.frames[0]?.keyframe).toBe(true);
  expect(c.decodedFrames).toBe(r.frames.length);
  const read = c.stamps.filter((s) => s !== undefined).length;
  expect(read).toBeGreaterThanOrEqual(r.frames.length - unreadable);
  // captureTimeUs is the V4L2 timestamp mapped to CLOCK_REALTIME; the stamp is
  // the camera's CLOCK_REALTIME at exposure: the two name the same instant.
  // Exception: at a starved bitrate the encoder may code a whole frame as
  // P_Skip (a dozen bytes), which decodes to the previous picture and stamp.
  c.stamps.forEach((stamp, i) => {
    const f = r.frames[i];
    if (stamp === undefined || f === undefined) return;
    const repeat = i > 0 && stamp === c.stamps[i - 1] && f.size < 64;
    if (!repeat) expect(Math.abs(stamp - f.captureTimeUs)).toBeLessThan(5_000);
  });
}

describe("CameraPipeline on the virtual board", () => {
  for (const pixelFormat of ["YUYV", "NV12", "YU12"] as const) {
    it(`captures ${pixelFormat} and encodes it in software into valid, stamped H.264`, async () => {
      const r = await stream("pi5", { options: { ...base, pixelFormat }, frames: 12 });
      expect(r.negotiated).toEqual({
        width: 640,
        height: 480,
        fps: 30,
        pixelFormat,
        encoder: "software",
      });
      expect(r.errors).toEqual([]);
      expectValidStream(r);
      expect(r.stats.framesEncoded).toBeGreaterThanOrEqual(12);
      expect(r.stats.encodeTimeMeanUs).toBeGreaterThan(0);
    });
  }

  it("encodes with the Pi's M2M encoder, importing camera buffers as DMABUF", async () => {
    const r = await stream("pi4", { options: { ...base, width: 1280, height: 720 }, frames: 15 });
    expect(r.negotiated).toMatchObject({
      width: 1280,
      height: 720,
      encoder: "hardware",
      encoderDevice: "/dev/video11",
    });
    expect(r.zeroCopy).toBe(true);
    expect(r.errors).toEqual([]);
    expectValidStream(r);
  });

  it("copies frames into the encoder's MMAP buffers when zero copy is turned off", async () => {
    const r = await stream("pi4", {
      options: { ...base, encoder: "hardware", pixelFormat: "YUYV", zeroCopy: false },
      frames: 12,
    });
    expect(r.negotiated).toMatchObject({ encoder: "hardware", pixelFormat: "YUYV" });
    expect(r.zeroCopy).toBe(false);
    expect(r.errors).toEqual([]);
    expectValidStream(r);
  });

  it("asks the hardware encoder for constrained baseline by default", async () => {
    const r = await stream("pi4", { options: base, frames: 3 });
    const c = checkStream(r.out, r.frames);
    expect(c.problems).toEqual([]);
    const { readFileSync } = await import("node:fs");
    const sps = spsProfile(readFileSync(r.out).subarray(0, r.frames[0]?.size ?? 0));
    expect(sps?.profileIdc).toBe(66);
    expect((sps?.constraints ?? 0) & 0x40).toBe(0x40);
  });

  it("chooses the software encoder on a board without one, and says why a forced hardware encoder is impossible", async () => {
    const auto = await stream("pi5", { options: base, frames: 3 });
    expect(auto.negotiated.encoder).toBe("software");
    const { result } = await runOnBoard<{
      thrown: boolean;
      error: { name: string; message: string };
    }>("openError", { options: { ...base, encoder: "hardware" } }, { profile: "pi5" });
    expect(result.thrown).toBe(true);
    expect(result.error.name).toBe("NativeDeviceError");
    expect(result.error.message).toMatch(/no V4L2 M2M H\.264 encoder/);
  });

  it("passes a UVC camera's own H.264 through without re-encoding", async () => {
    const r = await stream("uvc-h264", { options: base, frames: 12 });
    expect(r.negotiated).toMatchObject({ pixelFormat: "H264", encoder: "passthrough" });
    expectValidStream(r);
  });

  it("refuses a frame rate for a camera's own H.264, and frame rates out of range", async () => {
    type Outcome = {
      fps: number;
      thrown: boolean;
      isTypeError?: boolean;
      name?: string;
      message?: string;
    };
    const uvc = await runOnBoard<Outcome[]>(
      "frameRates",
      { options: base, fps: [15] },
      { profile: "uvc-h264" },
    );
    expect(uvc.result[0]).toMatchObject({ thrown: true, name: "NativeDeviceError" });
    expect(uvc.result[0]?.message).toMatch(/cannot skip frames/);
    const pi = await runOnBoard<Outcome[]>(
      "frameRates",
      { options: base, fps: [0, -5, 5000, 15, 60] },
      { profile: "pi4" },
    );
    expect(pi.result.map((o) => o.isTypeError ?? false)).toEqual([true, true, true, false, false]);
    // Above the camera's rate is the camera's rate: not an error.
    expect(pi.result.map((o) => o.thrown)).toEqual([true, true, true, false, false]);
  });

  it("refuses passthrough when the camera gives no H.264", async () => {
    const { result } = await runOnBoard<{ thrown: boolean; error: { message: string } }>(
      "openError",
      { options: { ...base, encoder: "passthrough" } },
      { profile: "pi4" },
    );
    expect(result.thrown).toBe(true);
    expect(result.error.message).toMatch(/does not offer H264/);
  });

  for (const [profile, encoder] of [
    ["pi4", "hardware"],
    ["pi5", "software"],
  ] as const) {
    it(`changes the ${encoder} encoder's bitrate while running`, async () => {
      const r = await stream(profile, {
        options: { ...base, bitrateKbps: 4000, keyframeInterval: 1000, encoder },
        frames: 75,
        bitrate: [{ at: 30, kbps: 200 }],
      });
      const mean = (a: number, b: number): number => {
        const s = r.frames.slice(a, b).filter((f) => !f.keyframe);
        return s.reduce((t, f) => t + f.size, 0) / s.length;
      };
      const before = mean(10, 30);
      const after = mean(55, 75);
      expect(after).toBeLessThan(before / 2);
      // 200 kbit/s is below the 250 kbit/s the stamp band is made to survive
      // (docs/firmware-sim.md): a few frames after the drop may lose it.
      expectValidStream(r, 3);
    });

    it(`delivers a key frame within 2 frames of a request (${encoder})`, async () => {
      const r = await stream(profile, {
        options: { ...base, keyframeInterval: 1000, encoder },
        frames: 40,
        keyAfter: [10, 25],
      });
      // "Within 2 frames" counts sensor frames from the request: the first two
      // frames captured after it (or within the frame interval before it, still
      // in flight then) must include an IDR. Counting delivered frames instead
      // would measure how late the JS thread ran.
      expect(r.keyRequests.map((k) => k.after)).toEqual([10, 25]);
      for (const k of r.keyRequests) {
        const candidates = r.frames
          .slice(k.after + 1)
          .filter((f) => f.captureTimeUs > k.atUs - 1_000_000 / 30)
          .slice(0, 2);
        expect(candidates.map((f) => f.keyframe)).toContain(true);
      }
      expect(r.frames.slice(1, 10).some((f) => f.keyframe)).toBe(false);
      expectValidStream(r);
    });

    it(`drops to a lower frame rate without a restart and spends the bitrate on the frames kept (${encoder})`, async () => {
      const r = await stream(profile, {
        options: { ...base, bitrateKbps: 600, keyframeInterval: 1000, encoder },
        frames: 45,
        frameRate: [{ at: 15, fps: 5 }],
        keyAfter: [35],
      });
      expect(r.errors).toEqual([]);
      // One IDR at the start and the one asked for: no restart.
      expect(r.frames.filter((f) => f.keyframe).length).toBe(2);
      // 5 of 30: a camera frame in 6 goes to the encoder once the rate holds.
      expect(r.stats.framesDecimated).toBeGreaterThan(4 * 20);
      const gaps = r.frames
        .slice(20, 35)
        .map((f, i) => f.captureTimeUs - (r.frames[19 + i]?.captureTimeUs ?? 0));
      const median = [...gaps].sort((a, b) => a - b)[gaps.length >> 1] ?? 0;
      expect(median).toBeGreaterThan(180_000);
      // The encoder was told: each frame may have the bits of six (x264: the
      // scaled rate; M2M: VIDIOC_S_PARM). Told nothing, they stay the size
      // they were at 30 fps. The virtual camera's picture needs less than
      // six times the bits at 600 kbit/s (x264 took about 3x with a 0.5 s
      // VBV buffer, 2.99x with 0.25 s), so the bar is twice.
      const mean = (a: number, b: number): number => {
        const s = r.frames.slice(a, b).filter((f) => !f.keyframe);
        return s.reduce((t, f) => t + f.size, 0) / s.length;
      };
      expect(mean(22, 35)).toBeGreaterThan(2 * mean(3, 15));
      // The key frame asked for comes with the next camera frame, not with
      // the next one the 5 fps schedule keeps (up to 200 ms later).
      const [k] = r.keyRequests;
      const idr = r.frames.slice(36).find((f) => f.keyframe);
      expect(k && idr ? idr.captureTimeUs - k.atUs : Infinity).toBeLessThan(100_000);
      expectValidStream(r);
    });
  }

  it("keeps streaming through dequeue errors (EIO) and lost sensor frames, counting them", async () => {
    const r = await stream("pi4", { options: base, frames: 30 }, "eio:rate=0.1,drop:rate=0.1");
    expect(r.errors).toEqual([]);
    expect(r.stats.framesDropped).toBeGreaterThan(0);
    expectValidStream(r);
  });

  it("drops the oldest frames up to a key frame when JavaScript lags, then resumes on a key frame", async () => {
    const { result } = await runOnBoard<{
      keys: boolean[];
      stats: StreamResult["stats"];
    }>(
      "lag",
      { options: { ...base, queueDepth: 4, keyframeInterval: 1000 }, blockMs: 1000, frames: 12 },
      { profile: "pi5" },
    );
    expect(result.stats.framesDropped).toBeGreaterThan(10);
    // The first frame after the stall must be decodable on its own.
    expect(result.keys[3]).toBe(true);
    expect(result.stats.queueDepth).toBeLessThanOrEqual(4);
  });
});
