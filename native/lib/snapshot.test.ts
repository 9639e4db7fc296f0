import { describe, expect, it } from "vitest";
import { readStamp } from "../../gateway/src/media/frame-stamp.js";
import { runOnBoard, type Profile } from "./testing/board.js";
import { decodeJpegLuma, jpegHeader } from "./testing/jpeg.js";
import type { ShotResult, SnapshotArgs, SnapshotResult } from "./testing/snapshot-scenarios.js";
import type { PipelineOptions } from "./types.js";

const base: PipelineOptions = {
  device: "/dev/video0",
  width: 640,
  height: 480,
  fps: 30,
  bitrateKbps: 1500,
};

async function snapshots(profile: Profile, args: SnapshotArgs): Promise<SnapshotResult> {
  const { result } = await runOnBoard<SnapshotResult>("snapshot", args, { profile });
  return result;
}

/** The JPEG of a shot that worked: its header checked, its stamp read. */
function picture(s: ShotResult | undefined): { width: number; height: number; stampUs: bigint } {
  expect(s?.error).toBeUndefined();
  const jpeg = Buffer.from(s?.jpeg ?? "", "base64");
  const h = jpegHeader(jpeg);
  expect(h.baseline).toBe(true);
  expect(h.components).toBe(3);
  expect([h.width, h.height]).toEqual([s?.width, s?.height]);
  const luma = decodeJpegLuma(jpeg);
  expect(luma.length).toBe(h.width * h.height);
  const stamp = readStamp({ data: luma, width: h.width, height: h.height }, 640, 480);
  expect(stamp).not.toBeNull();
  return { width: h.width, height: h.height, stampUs: stamp ?? 0n };
}

describe("CameraPipeline.snapshot on the virtual board", () => {
  for (const pixelFormat of ["YUYV", "NV12", "YU12"] as const) {
    it(`makes a JPEG of the next ${pixelFormat} frame whose stamp is its capture time`, async () => {
      const r = await snapshots("pi5", {
        options: { ...base, pixelFormat },
        shots: [{}, { width: 320 }, { width: 161 }],
      });
      const [full, half, odd] = r.shots;
      const f = picture(full);
      expect([f.width, f.height]).toEqual([640, 480]);
      // The stamp in the pixels and the capture time name the same instant (frame-stamp.md).
      expect(Math.abs(Number(f.stampUs) - (full?.captureTimeUs ?? 0))).toBeLessThan(5_000);
      // The frame came after the snapshot was asked for: older than the wait, never stale.
      expect((full?.settledUs ?? 0) - (full?.captureTimeUs ?? 0)).toBeGreaterThan(0);
      const h = picture(half);
      expect([h.width, h.height]).toEqual([320, 240]);
      expect(h.stampUs).toBeGreaterThan(f.stampUs);
      // An odd width is made even, and the height keeps the aspect (and is even).
      const o = picture(odd);
      expect([o.width, o.height]).toEqual([160, 120]);
    });
  }

  it("takes snapshots from the Pi 4's camera while the M2M encoder streams it", async () => {
    const r = await snapshots("pi4", {
      options: { ...base, width: 1280, height: 720 },
      shots: [{ width: 640 }],
    });
    const s = r.shots[0];
    const jpeg = jpegHeader(Buffer.from(s?.jpeg ?? "", "base64"));
    expect([jpeg.width, jpeg.height]).toEqual([640, 360]);
  });

  it("refuses a width outside 16 .. the camera's width, and snapshots of a stopped pipeline", async () => {
    const r = await snapshots("pi5", {
      options: base,
      shots: [{ width: 15 }, { width: 641 }],
    });
    expect(r.beforeStart.error).toMatchObject({
      name: "NativeSnapshotError",
      reason: "not-running",
    });
    for (const s of r.shots) {
      expect(s.error).toMatchObject({ name: "NativeSnapshotError", reason: "bad-size" });
      expect(s.error?.message).toMatch(/outside 16\.\.640/);
    }
    // Closed while it waited: it settles at once, with the frame that beat close() or an error.
    if (r.duringClose.error !== undefined) {
      expect(["stopped", "not-running"]).toContain(r.duringClose.error.reason);
    }
    expect(r.afterClose.error).toMatchObject({ name: "NativeSnapshotError", reason: "stopped" });
  });

  it("says a passed-through H.264 camera has no raw frame to snapshot", async () => {
    const r = await snapshots("uvc-h264", {
      options: { ...base, encoder: "passthrough", pixelFormat: "H264" },
      shots: [{}],
    });
    expect(r.shots[0]?.error).toMatchObject({
      name: "NativeSnapshotError",
      reason: "no-raw-frame",
    });
    expect(r.shots[0]?.error?.message).toMatch(/H\.264 decoder/);
  });

  it("rejects options of the wrong type with a TypeError", async () => {
    const r = await snapshots("pi5", { options: base, shots: [{ width: 320.5 }] });
    expect(r.shots[0]?.error).toMatchObject({ name: "TypeError" });
    expect(r.shots[0]?.error?.message).toMatch(/options\.width must be an integer/);
  });
});
