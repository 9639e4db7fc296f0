/** @camgw/native: V4L2 capture and H.264 encode, typed. */
export { CameraPipeline, type CameraPipelineEvents } from "./camera-pipeline.js";
export { listDevices, findCamera, findEncoder } from "./devices.js";
export { NativeDeviceError, type NativeDeviceErrorContext } from "./errors.js";
export { locateAddon } from "./binding.js";
export type * from "./types.js";
