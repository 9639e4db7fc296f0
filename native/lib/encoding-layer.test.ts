import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runOnBoard, type Profile } from "./testing/board.js";
import { checkStream } from "./testing/check-stream.js";
import type { LayerArgs, LayerErrorArgs, LayerResult } from "./testing/layer-scenarios.js";
import type { PipelineOptions } from "./types.js";

const dir = mkdtempSync(join(tmpdir(), "camgw-layer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const base: PipelineOptions = {
  device: "/dev/video0",
  width: 640,
  height: 480,
  fps: 30,
  bitrateKbps: 1500,
};

async function run(
  profile: Profile,
  args: Omit<LayerArgs, "out">,
): Promise<LayerResult & { out: string }> {
  const out = join(dir, `l${n++}`);
  const { result } = await runOnBoard<LayerResult>("layer", { ...args, out }, { profile });
  return { ...result, out };
}

/** Each encoding on its own parses, decodes in full and shows the camera's stamps at its capture times. */
function expectValid(path: string, frames: LayerResult["low"]): void {
  const c = checkStream(path, frames);
  expect(c.problems).toEqual([]);
  expect(frames[0]?.keyframe).toBe(true);
  expect(c.decodedFrames).toBe(frames.length);
  // Every frame shows its stamp: a lower encoding is a downscale the reader must not misread.
  expect(c.stampSkewUs.length).toBe(frames.length);
  for (const skew of c.stampSkewUs) expect(Math.abs(skew)).toBeLessThan(5_000);
}

describe("A second, lower encoding from the same capture, on the virtual board", () => {
  it("runs beside the main one in x264, scaled, with the same capture times, and stops on demand", async () => {
    const r = await run("pi5", {
      options: base,
      layer: { width: 320, height: 240, bitrateKbps: 300 },
      layerFrames: 20,
      keyAfter: 10,
      kbpsAfterKey: 200,
      framesAfterStop: 10,
    });
    expect(r.errors).toEqual([]);
    expect(r.encoder).toBe("software");
    expect(r.low.length).toBe(20);
    for (const f of r.low) expect([f.width, f.height]).toEqual([320, 240]);
    for (const f of r.main) expect([f.width, f.height]).toEqual([640, 480]);
    expectValid(`${r.out}.0.h264`, r.main);
    expectValid(`${r.out}.1.h264`, r.low);
    // One capture, two encodings: every layer frame is a frame the main encoding also carried.
    const mainTimes = new Set(r.main.map((f) => f.captureTimeUs));
    const shared = r.low.filter((f) => mainTimes.has(f.captureTimeUs)).length;
    expect(shared).toBeGreaterThanOrEqual(r.low.length - 2);
    // The key frame asked of the layer came on its next frame (x264 is synchronous).
    const afterRequest = r.low.slice(r.keyRequestedAt, r.keyRequestedAt + 2);
    expect(afterRequest.some((f) => f.keyframe)).toBe(true);
    // The main encoding got no IDR from it (its first is at frame 0, the GOP is 60).
    expect(r.main.slice(1).filter((f) => f.keyframe)).toEqual([]);
    expect(r.afterStop.main).toBeGreaterThanOrEqual(10);
    // At most a frame already queued when stopLayer() was called.
    expect(r.afterStop.low).toBeLessThanOrEqual(1);
  });

  it("is a second instance of the board's M2M encoder where there is one, and outlives a stop and start", async () => {
    const r = await run("pi4", {
      options: { ...base, width: 1280, height: 720 },
      layer: { width: 640, height: 360, bitrateKbps: 400 },
      beforeStart: true,
      restart: true,
      layerFrames: 20,
      framesAfterStop: 5,
    });
    expect(r.errors).toEqual([]);
    expect(r.encoder).toBe("hardware");
    expect(r.low.length).toBe(20);
    for (const f of r.low) expect([f.width, f.height]).toEqual([640, 360]);
    for (const f of r.main) expect([f.width, f.height]).toEqual([1280, 720]);
    // Restarted midway: the layer's stream starts again with an IDR after the restart.
    expect(r.low.filter((f) => f.keyframe).length).toBeGreaterThanOrEqual(2);
    expectValid(`${r.out}.1.h264`, r.low);
    expect(r.layerFramesEncoded).toBeGreaterThanOrEqual(1);
  });

  it("refuses a layer larger than the camera, an odd size, and a camera that gives H.264", async () => {
    const cases: [Profile, LayerErrorArgs][] = [
      ["pi5", { options: base, layer: { width: 1280, height: 720, bitrateKbps: 300 } }],
      ["pi5", { options: base, layer: { width: 321, height: 240, bitrateKbps: 300 } }],
      [
        "uvc-h264",
        {
          options: { ...base, encoder: "passthrough" },
          layer: { width: 320, height: 240, bitrateKbps: 300 },
        },
      ],
    ];
    const messages: string[] = [];
    for (const [profile, args] of cases) {
      const { result } = await runOnBoard<{ thrown: boolean; name: string; message: string }>(
        "layerError",
        args,
        { profile },
      );
      expect(result.thrown).toBe(true);
      expect(result.name).toBe("NativeDeviceError");
      messages.push(result.message);
    }
    expect(messages[0]).toMatch(/at most the camera's 640x480, not 1280x720/);
    expect(messages[1]).toMatch(/must be even/);
    expect(messages[2]).toMatch(/not raw frames/);
  });
});
