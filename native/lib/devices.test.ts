import { describe, expect, it } from "vitest";
import { runOnBoard } from "./testing/board.js";
import type { DeviceInfo } from "./types.js";

function camera(devs: DeviceInfo[]): DeviceInfo | undefined {
  return devs.find((d) => d.path === "/dev/video0");
}

describe("listDevices on the virtual board", () => {
  it("lists the camera with its formats, sizes and rates, and the Pi's encoder, on a pi4", async () => {
    const { result: devs } = await runOnBoard<DeviceInfo[]>("list", {}, { profile: "pi4" });
    const cam = camera(devs);
    expect(cam?.kind).toBe("capture");
    const fourccs = cam?.formats.map((f) => f.fourcc) ?? [];
    expect(fourccs).toEqual(expect.arrayContaining(["YUYV", "NV12", "YU12"]));
    expect(fourccs).not.toContain("H264");
    for (const f of cam?.formats ?? []) {
      expect(f.sizes.map((s) => `${s.width}x${s.height}`)).toEqual(
        expect.arrayContaining(["640x480", "1280x720", "1920x1080"]),
      );
      for (const s of f.sizes) {
        expect(s.intervals).toEqual(
          expect.arrayContaining([
            { numerator: 1, denominator: 30 },
            { numerator: 1, denominator: 15 },
          ]),
        );
      }
    }
    const enc = devs.find((d) => d.path === "/dev/video11");
    expect(enc).toMatchObject({
      kind: "m2m-encoder",
      isPiEncoder: true,
      driver: "bcm2835-codec",
      card: "bcm2835-codec-encode",
      multiplanar: true,
    });
    expect(enc?.formats.map((f) => f.fourcc)).toContain("H264");
    expect(enc?.inputFormats.map((f) => f.fourcc)).toEqual(
      expect.arrayContaining(["YUYV", "NV12", "YU12"]),
    );
  });

  it("lists a camera and no encoder on a pi5", async () => {
    const { result: devs } = await runOnBoard<DeviceInfo[]>("list", {}, { profile: "pi5" });
    expect(camera(devs)?.kind).toBe("capture");
    expect(devs.filter((d) => d.kind === "m2m-encoder")).toEqual([]);
  });

  it("lists H264 among the camera's formats on a uvc-h264 board", async () => {
    const { result: devs } = await runOnBoard<DeviceInfo[]>("list", {}, { profile: "uvc-h264" });
    const h264 = camera(devs)?.formats.find((f) => f.fourcc === "H264");
    expect(h264?.compressed).toBe(true);
  });
});
