/** Lists the ALSA PCM devices of the sound cards, and picks a microphone and a speaker. */
import { loadBinding } from "./binding.js";
import { callNative } from "./errors.js";
import type { AudioDeviceInfo } from "./audio-types.js";

export function listAudioDevices(): AudioDeviceInfo[] {
  return callNative(() => loadBinding().listAudioDevices());
}

/** USB cards first: on a Pi the onboard outputs (HDMI, headphones) have no microphone anyway. */
function usbFirst(devices: AudioDeviceInfo[]): AudioDeviceInfo[] {
  return [...devices].sort(
    (a, b) => Number(b.driver === "USB-Audio") - Number(a.driver === "USB-Audio"),
  );
}

/** The first device that can capture. */
export function findMicrophone(
  devices: AudioDeviceInfo[] = listAudioDevices(),
): AudioDeviceInfo | undefined {
  return usbFirst(devices).find((d) => d.capture !== null);
}

/** The first device that can play. */
export function findSpeaker(
  devices: AudioDeviceInfo[] = listAudioDevices(),
): AudioDeviceInfo | undefined {
  return usbFirst(devices).find((d) => d.playback !== null);
}
