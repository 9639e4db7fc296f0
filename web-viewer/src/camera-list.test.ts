import { describe, expect, it } from "vitest";
import type { DeviceState } from "../../gateway/src/signaling/viewer-client.js";
import { describeDevice, sortDevices } from "./camera-list.js";

const porch: DeviceState = {
  deviceId: "porch",
  online: true,
  name: "Porch",
  streams: [{ id: "main", codec: "H264", width: 1280, height: 720, fps: 30 }],
};
const attic: DeviceState = { deviceId: "attic", online: false, streams: [] };
const garage: DeviceState = { ...porch, deviceId: "garage", name: "Garage" };

describe("camera list", () => {
  it("describes a camera by id (when its name differs), state and main stream", () => {
    expect(describeDevice(porch)).toBe("porch · online · 1280×720 @ 30 fps");
    expect(describeDevice(attic)).toBe("offline");
  });

  it("says when an online camera reports its camera away", () => {
    const away: DeviceState = {
      ...porch,
      streams: [
        {
          id: "main",
          codec: "H264",
          width: 1280,
          height: 720,
          fps: 30,
          state: "unavailable",
          reason: "unplugged",
        },
      ],
    };
    expect(describeDevice(away)).toBe("porch · online, camera unavailable · 1280×720 @ 30 fps");
    const live: DeviceState = {
      ...porch,
      streams: away.streams.map((s) => ({ ...s, state: "live" as const })),
    };
    expect(describeDevice(live)).toBe("porch · online · 1280×720 @ 30 fps");
  });

  it("does not repeat an id that is also the name", () => {
    expect(describeDevice({ ...porch, name: "porch" })).toBe("online · 1280×720 @ 30 fps");
  });

  it("lists online cameras first, then by name", () => {
    expect(sortDevices([attic, porch, garage]).map((d) => d.deviceId)).toEqual([
      "garage",
      "porch",
      "attic",
    ]);
  });
});
