import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { simEnv, type SimProfile } from "../../../firmware-sim/src/sim-env.js";
import { assertBuilt, CAMGW_BIN } from "../testing/gateway-process.js";

/** `camgw devices` as a user runs it, on each virtual board (or on none). */
function devices(profile: SimProfile | null): string {
  assertBuilt();
  const env = { ...process.env, ...(profile ? simEnv({ profile }, process.env) : {}) };
  const r = spawnSync(process.execPath, [CAMGW_BIN, "devices"], { env, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe("camgw devices", () => {
  it("lists the Pi's hardware encoder with x264 beside it, and says auto picks the hardware", () => {
    const out = devices("pi4");
    expect(out).toMatch(/^Cameras:\n {2}\/dev\/video0: camgw virtual camera/);
    expect(out).toMatch(
      /H\.264 encoders:\n {2}\/dev\/video11: bcm2835-codec-encode .*Raspberry Pi/,
    );
    expect(out).toContain("x264: software, built into camgw");
    expect(out).toContain(
      "--encoder auto would use hardware, /dev/video11 (bcm2835-codec-encode) fed NV12",
    );
  });

  it("says auto falls back to x264 on a board with no hardware encoder (Pi 5)", () => {
    const out = devices("pi5");
    expect(out).not.toContain("/dev/video11");
    expect(out).toContain("--encoder auto would use software, x264 fed YU12");
  });

  it("says auto passes an H.264 camera's own stream through", () => {
    expect(devices("uvc-h264")).toContain("--encoder auto would use passthrough");
  });

  it("says what to do on a machine with no camera at all", () => {
    const out = devices(null);
    expect(out).toContain("none found");
    expect(out).toContain("`camgw run --source sim`");
    expect(out).toContain("x264: software");
  });
});
