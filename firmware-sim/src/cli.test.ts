import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../gateway/src/errors.js";
import { execOnBoard, parseExecArgs } from "./cli.js";
import { simEnv } from "./sim-env.js";
import { ensureBuilt, libraryPath, runOnBoard } from "./test-support.js";

describe("firmware-sim exec", () => {
  it("parses profile, faults, seed and control before the command", () => {
    const a = parseExecArgs([
      "--profile",
      "pi5",
      "--faults=drop:rate=0.1",
      "--seed",
      "9",
      "--control",
      "ctl",
      "--",
      "v4l2-ctl",
      "--all",
    ]);
    expect(a.options).toEqual({
      profile: "pi5",
      faults: "drop:rate=0.1",
      seed: 9,
      controlFile: "ctl",
    });
    expect(a.command).toEqual(["v4l2-ctl", "--all"]);
  });

  it("parses the sound card's options", () => {
    const a = parseExecArgs(["--audio", "none", "--speaker=out.wav", "--", "aplay", "x.wav"]);
    expect(a.options).toEqual({ audio: "none", speakerFile: "out.wav" });
    expect(() => parseExecArgs(["--audio", "hdmi", "--", "true"])).toThrow(
      /--audio must be usb or none/,
    );
    expect(simEnv({ speakerFile: "out.wav", audio: "usb", library: libraryPath })).toMatchObject({
      CAMGW_SIM_AUDIO: "usb",
      CAMGW_SIM_SPEAKER_FILE: expect.stringMatching(/\/out\.wav$/) as unknown,
    });
  });

  it.each([
    [["--profile", "pi9", "--", "true"], /unknown profile "pi9"/],
    [["--seed", "-1", "--", "true"], /needs a value|non-negative integer/],
    [["--seed", "x", "--", "true"], /non-negative integer/],
    [["--frobnicate", "--", "true"], /unknown option --frobnicate/],
    [["--faults"], /--faults needs a value/],
  ])("rejects %j clearly", (argv, message) => {
    expect(() => parseExecArgs(argv)).toThrow(ConfigError);
    expect(() => parseExecArgs(argv)).toThrow(message);
  });

  it("refuses a bad fault list before starting anything", () => {
    expect(() => simEnv({ faults: "drop:rate=2", library: libraryPath })).toThrow(/rate must be/);
  });

  it("tells the user to build the library when it is missing", () => {
    expect(() => simEnv({ library: "/nonexistent/libcamgw-vdev.so" })).toThrow(/make sim-build/);
  });

  it("returns the command's exit status", async () => {
    ensureBuilt();
    await expect(execOnBoard({ options: {}, command: ["sh", "-c", "exit 3"] })).resolves.toBe(3);
  });

  it("names the program a user asked for that is not installed, and the package of a known tool", async () => {
    ensureBuilt();
    await expect(
      execOnBoard({ options: {}, command: ["camgw-no-such-tool", "--list-devices"] }),
    ).rejects.toThrow("cannot run camgw-no-such-tool: no such program on PATH");
    // a machine where only `make run` ran: v4l-utils is not installed
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), "camgw-empty-path-"));
    try {
      await expect(
        execOnBoard({ options: {}, command: ["v4l2-ctl", "--list-devices"] }),
      ).rejects.toThrow("no such program on PATH (Debian: sudo apt-get install v4l-utils)");
    } finally {
      rmSync(process.env.PATH, { recursive: true });
      process.env.PATH = path;
    }
  });

  it("shows the board's devices to v4l2-ctl --list-devices", async () => {
    const pi4 = await runOnBoard("v4l2-ctl", ["--list-devices"]);
    expect(pi4.stdout).toContain("camgw virtual camera (platform:camgw-vcam):\n\t/dev/video0");
    expect(pi4.stdout).toContain("bcm2835-codec-encode (platform:bcm2835-codec):\n\t/dev/video11");
    const pi5 = await runOnBoard("v4l2-ctl", ["--list-devices"], { profile: "pi5" });
    expect(pi5.stdout).toContain("/dev/video0");
    expect(pi5.stdout).not.toContain("video11");
  });

  it("reports the bcm2835-codec identity and controls on /dev/video11", async () => {
    const r = await runOnBoard("v4l2-ctl", ["-d", "/dev/video11", "--info", "--list-ctrls"]);
    expect(r.stdout).toContain("Driver name      : bcm2835-codec");
    expect(r.stdout).toContain("Card type        : bcm2835-codec-encode");
    expect(r.stdout).toContain("Bus info         : platform:bcm2835-codec");
    for (const ctrl of [
      "video_bitrate_mode",
      "video_bitrate ",
      "repeat_sequence_header",
      "force_key_frame",
      "h264_i_frame_period",
      "h264_level",
      "h264_profile",
    ]) {
      expect(r.stdout).toContain(ctrl);
    }
  });
});
