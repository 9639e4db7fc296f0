/** Lists the V4L2 video nodes in /dev and what each can do. */
import { loadBinding } from "./binding.js";
import { callNative } from "./errors.js";
import type { DeviceInfo } from "./types.js";

export function listDevices(): DeviceInfo[] {
  return callNative(() => loadBinding().listDevices());
}

/** The first node that can be captured from (a camera). */
export function findCamera(devices: DeviceInfo[] = listDevices()): DeviceInfo | undefined {
  return devices.find((d) => d.kind === "capture" && d.formats.length > 0);
}

/** The hardware H.264 encoder, preferring the Raspberry Pi's. */
export function findEncoder(devices: DeviceInfo[] = listDevices()): DeviceInfo | undefined {
  const encoders = devices.filter((d) => d.kind === "m2m-encoder");
  return encoders.find((d) => d.isPiEncoder) ?? encoders[0];
}
