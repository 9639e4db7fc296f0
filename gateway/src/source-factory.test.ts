import { describe, expect, it } from "vitest";
import { NativeDeviceError } from "../../native/lib/index.js";
import { SourceError } from "./errors.js";
import { explainOpenError } from "./source-factory.js";

/** The error the addon raises when open(2) fails on a device node (native/lib/errors.ts). */
function openFailed(errnoName: string, errno: number): NativeDeviceError {
  return new NativeDeviceError(`open: ${errnoName} on /dev/video9`, {
    device: "/dev/video9",
    ioctl: "open",
    errno,
    errnoName,
  });
}

describe("a camera that cannot be opened", () => {
  it("points to `camgw devices` and the virtual board when there is no such device", () => {
    const err = explainOpenError(openFailed("ENOENT", 2), "/dev/video9");
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toBe(
      "no camera at /dev/video9 (ENOENT opening /dev/video9): `camgw devices` lists the cameras here; `--source sim` runs on the virtual board without one",
    );
  });

  it("names the video group when permission is denied, and another program when busy", () => {
    expect((explainOpenError(openFailed("EACCES", 13), "/dev/video9") as Error).message).toMatch(
      /not allowed to open \/dev\/video9 .*"video" group/,
    );
    expect((explainOpenError(openFailed("EBUSY", 16), "/dev/video9") as Error).message).toMatch(
      /in use by another program/,
    );
  });

  it("keeps the addon's own message for a failing ioctl after open", () => {
    const sFmt = new NativeDeviceError("VIDIOC_S_FMT: EINVAL on /dev/video0", {
      device: "/dev/video0",
      ioctl: "VIDIOC_S_FMT",
      errno: 22,
      errnoName: "EINVAL",
    });
    expect(explainOpenError(sFmt, "/dev/video0")).toBe(sFmt);
  });
});
