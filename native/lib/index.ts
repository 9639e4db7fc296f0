/** @camgw/native: V4L2 capture and H.264 encode, ALSA audio with Opus, typed. */
export { CameraPipeline, type CameraPipelineEvents } from "./camera-pipeline.js";
export { listDevices, findCamera, findEncoder } from "./devices.js";
export {
  NativeDeviceError,
  type NativeDeviceErrorContext,
  NativeSnapshotError,
  type SnapshotFailureReason,
} from "./errors.js";
export { locateAddon } from "./binding.js";
export type * from "./types.js";
export { AudioCapture, type AudioCaptureEvents } from "./audio-capture.js";
export { AudioPlayback, type AudioPlaybackEvents } from "./audio-playback.js";
export { listAudioDevices, findMicrophone, findSpeaker } from "./audio-devices.js";
export type * from "./audio-types.js";
export { notifySystemd, systemdWatchdogMs } from "./systemd-notify.js";
