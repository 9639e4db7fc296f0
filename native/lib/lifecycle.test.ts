import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CameraPipeline } from "./camera-pipeline.js";
import { NativeDeviceError } from "./errors.js";
import { runOnBoard } from "./testing/board.js";
import type { ResourceCount } from "./testing/scenarios.js";
import type { PipelineOptions } from "./types.js";

const base: PipelineOptions = {
  device: "/dev/video0",
  width: 640,
  height: 480,
  fps: 30,
  bitrateKbps: 1000,
};

describe("CameraPipeline arguments and errors", () => {
  it("throws TypeError for bad arguments before opening anything", () => {
    const bad: unknown[] = [
      undefined,
      { ...base, device: 7 },
      { ...base, width: -1 },
      { ...base, fps: 1.5 },
      { ...base, bitrateKbps: undefined },
      { ...base, pixelFormat: "MJPG" },
      { ...base, encoder: "gpu" },
      { ...base, profile: "extended" },
      { ...base, level: "9.9" },
      { ...base, zeroCopy: "yes" },
    ];
    for (const options of bad) {
      expect(() => CameraPipeline.open(options as PipelineOptions)).toThrow(TypeError);
    }
  });

  it("names the call, the errno and the device when a device cannot be opened", () => {
    let caught: unknown;
    try {
      CameraPipeline.open({ ...base, device: "/dev/camgw-no-such-video" });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NativeDeviceError);
    const err = caught as NativeDeviceError;
    expect(err.code).toBe("device");
    expect(err.context).toEqual({
      device: "/dev/camgw-no-such-video",
      ioctl: "open",
      errno: 2,
      errnoName: "ENOENT",
    });
    expect(err.message).toBe(
      "open: ENOENT (No such file or directory) on /dev/camgw-no-such-video",
    );
    expect(err.stack).toContain("lifecycle.test.ts");
  });
});

function expectNoGrowth(base: ResourceCount, end: ResourceCount, rssToleranceKb: number): void {
  expect(end.fds).toBe(base.fds);
  expect(end.threads).toBe(base.threads);
  expect(end.rssKb - base.rssKb).toBeLessThan(rssToleranceKb);
}

describe("CameraPipeline lifecycle on the virtual board", () => {
  it("closes safely while streaming, from a frame handler and with frames in flight", async () => {
    for (const profile of ["pi4", "pi5"] as const) {
      const { result } = await runOnBoard<{
        closedA: number;
        afterCloseA: number;
        afterCloseB: number;
        queuedAtClose: number;
        base: ResourceCount;
        end: ResourceCount;
      }>("closeDuring", { options: base }, { profile });
      expect(result.closedA).toBe(1);
      expect(result.afterCloseA).toBe(0);
      expect(result.afterCloseB).toBe(0);
      expect(result.queuedAtClose).toBeGreaterThan(0);
      // RSS is not compared here: one pass includes first-time allocations
      // (x264 tables, JIT); the cycle test below is the leak check.
      expect(result.end.fds).toBe(result.base.fds);
      expect(result.end.threads).toBe(result.base.threads);
    }
  });

  for (const [what, dev, encoder] of [
    ["the camera", "camera", "software"],
    ["the hardware encoder", "encoder", "hardware"],
  ] as const) {
    it(`stops cleanly and emits 'unplugged' when ${what} is unplugged mid-stream, and opens again after replug`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "camgw-unplug-"));
      const control = join(dir, "faults");
      writeFileSync(control, "");
      try {
        const { result } = await runOnBoard<{
          events: string[];
          frames: number;
          base: ResourceCount;
          afterUnplug: ResourceCount;
          reopened: boolean;
          lastError: string;
        }>(
          "unplug",
          {
            options: { ...base, encoder },
            control,
            unplug: `unplug:dev=${dev}`,
            replug: "# replugged",
            afterFrames: 5,
          },
          { profile: "pi4", controlFile: control },
        );
        expect(result.events).toEqual(["unplugged", "closed"]);
        expect(result.frames).toBeGreaterThanOrEqual(5);
        // Nothing of the dead pipeline survives it: no fd, no thread.
        expect(result.afterUnplug.fds).toBe(result.base.fds);
        expect(result.afterUnplug.threads).toBe(result.base.threads);
        expect(result.reopened, result.lastError).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  // 300 cycles in `make test` (about 35 s; 1000 took 118 s of its 30-minute
  // budget): a leak of one frame per cycle is still ~135 MB, 8 times the
  // bar. The ASan run (native-test-asan) asks for 100: it is ~5x slower.
  // CAMGW_NATIVE_CYCLES=1000 for a longer run by hand.
  const cycles = Number(process.env.CAMGW_NATIVE_CYCLES ?? "300");
  it(`survives ${cycles} open/stream/close cycles without growing fds, threads or RSS`, async () => {
    const { result } = await runOnBoard<{ base: ResourceCount; end: ResourceCount }>(
      "cycles",
      {
        // Alternate the hardware (M2M + DMABUF) and software (x264) paths.
        options: [
          { ...base, encoder: "hardware" },
          { ...base, encoder: "software" },
        ],
        cycles,
        framesPerCycle: 2,
        warmup: 50,
      },
      {
        profile: "pi4",
        timeoutMs: 290_000,
        // RSS must measure leaks, not glibc's allocator. Two effects hide
        // behind it otherwise: each thread (x264's slice threads, the sim's
        // encoder) gets its own arena that keeps freed memory, and freeing a
        // large mmap'd block raises the mmap threshold so later multi-MB
        // encoder buffers come from (and stay in) the heap. Measured over
        // 300 cycles: RSS +100 MB with glibc defaults, +4 MB with these
        // settings, while malloc's in-use bytes grow ~2.5 KB/cycle either way.
        env: { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "131072" },
      },
    );
    // A leak of one 640x480 frame (450 KB) per cycle would be ~135 MB here.
    expectNoGrowth(result.base, result.end, 16 * 1024);
  }, 300_000);
});
