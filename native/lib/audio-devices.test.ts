import { describe, expect, it } from "vitest";
import { findMicrophone, findSpeaker } from "./audio-devices.js";
import type { AudioDeviceInfo } from "./audio-types.js";
import { runOnBoard } from "./testing/board.js";

describe("listAudioDevices on the virtual board", () => {
  it("lists the USB card's PCM by its stable names, with what each direction offers", async () => {
    const { result } = await runOnBoard<AudioDeviceInfo[]>("audioList", {}, { profile: "pi4" });
    expect(result).toEqual([
      {
        name: "hw:CARD=Device,DEV=0",
        plugName: "plughw:CARD=Device,DEV=0",
        card: 0,
        cardId: "Device",
        cardName: "USB Audio Device",
        longName: expect.stringContaining("USB Audio Device at usb-") as unknown,
        driver: "USB-Audio",
        device: 0,
        pcmName: "USB Audio",
        capture: {
          available: true,
          channelsMin: 1,
          channelsMax: 1,
          rateMin: 48000,
          rateMax: 48000,
        },
        playback: {
          available: true,
          channelsMin: 2,
          channelsMax: 2,
          rateMin: 48000,
          rateMax: 48000,
        },
      },
    ]);
    expect(findMicrophone(result)?.plugName).toBe("plughw:CARD=Device,DEV=0");
    expect(findSpeaker(result)?.name).toBe("hw:CARD=Device,DEV=0");
  });

  it("lists nothing on a board without a sound card", async () => {
    const { result } = await runOnBoard<AudioDeviceInfo[]>(
      "audioList",
      {},
      { profile: "pi4", env: { CAMGW_SIM_AUDIO: "none" } },
    );
    expect(result).toEqual([]);
    expect(findMicrophone(result)).toBeUndefined();
  });
});
