import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simEnv } from "../../../../firmware-sim/src/sim-env.js";
import { assertBuilt, REPO_ROOT } from "../../testing/gateway-process.js";
import type { DegradationCallArgs, DegradationCallResult } from "../testing/degradation-call.js";

/**
 * Frame-rate steps end to end on the virtual board (Pi 4: the camera, the
 * M2M encoder answering VIDIOC_S_PARM while streaming): a viewer behind a
 * ~40 packets/s policer, as in encoder-follows.test.ts, then the cap
 * lifts. testing/degradation-call.ts runs the call in a child process
 * preloaded with the board. What is checked is on the camera's clock: the
 * gaps between the capture times of the frames the encoder made, and
 * their size. No timing is asserted.
 */
async function call(args: DegradationCallArgs): Promise<DegradationCallResult> {
  assertBuilt();
  const script = join(
    REPO_ROOT,
    "build",
    "gateway",
    "src",
    "webrtc",
    "testing",
    "degradation-call.js",
  );
  const child = spawn(process.execPath, [script, JSON.stringify(args)], {
    env: { ...process.env, ...simEnv({ profile: "pi4" }, process.env) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((done) => child.on("exit", done));
  if (code !== 0) throw new Error(`degradation-call exited ${code}:\n${err}`);
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as DegradationCallResult;
}

describe("frame-rate steps on the virtual board (degradation maintain-resolution)", () => {
  it("encodes fewer frames of the same size under a capped link, and all of them again when it lifts", async () => {
    const r = await call({ mode: "maintain-resolution", maxKbps: 800, width: 640, height: 480 });
    expect(r.before.encoderFps).toBe(30);
    const { capped, lifted } = r;
    expect(capped).not.toBeNull();
    if (!capped) return;
    expect(capped.encoderFps).toBeLessThan(30);
    expect(capped.sizes).toEqual(["640x480"]);
    // 20 fps at most: the camera's 30 frames a second, two in three or fewer encoded.
    expect(capped.meanGapMs).toBeGreaterThan(1.4 * (1000 / 30));
    expect(r.log).toContain(`stream main: encoding at ${capped.encoderFps} fps to fit the bitrate`);
    expect(r.log.some((l) => /encoding at \d+x\d+/.test(l))).toBe(false);
    expect(lifted).not.toBeNull();
    if (!lifted) return;
    expect(lifted.encoderFps).toBe(30);
    expect(lifted.sizes).toEqual(["640x480"]);
    expect(lifted.meanGapMs).toBeLessThan(0.75 * capped.meanGapMs);
    expect(r.log).toContain("stream main: encoding at 30 fps to fit the bitrate");
    // The supervisor's watchdog took the slower frames for what they are.
    expect(r.restarts).toEqual({ encoder: 0, stall: 0, outages: 0 });
  });
});

describe("size steps on the virtual board (degradation maintain-framerate)", () => {
  it("encodes a smaller picture from the same capture under a capped link, and the full one when it lifts", async () => {
    const r = await call({ mode: "maintain-framerate", maxKbps: 800, width: 640, height: 480 });
    expect(r.before.sizes).toEqual(["640x480"]);
    const { capped, lifted } = r;
    expect(capped).not.toBeNull();
    if (!capped) return;
    // The ladder's own sizes, which the camera (640x480, 1280x720 and
    // 1920x1080 only) could not have given by reopening at them.
    // (Frames already on their way when the step came are at the old size.)
    for (const size of capped.sizes) expect(["640x480", "480x368", "320x240"]).toContain(size);
    expect(["480x368", "320x240"]).toContain(capped.sizes[capped.sizes.length - 1]);
    expect(capped.encoderFps).toBe(30);
    expect(r.log.some((l) => /encoding at (480x368|320x240) to fit the bitrate/.test(l))).toBe(
      true,
    );
    expect(lifted).not.toBeNull();
    if (!lifted) return;
    expect(lifted.sizes[lifted.sizes.length - 1]).toBe("640x480");
    // No reopen, restart or outage on the way down or up.
    expect(r.restarts).toEqual({ encoder: 0, stall: 0, outages: 0 });
  });
});
