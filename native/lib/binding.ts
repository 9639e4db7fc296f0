/**
 * The only module that loads the raw addon (camgw_native.node), and the
 * types-only description of what it exports. Everything else uses the typed
 * classes in devices.ts and camera-pipeline.ts.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { NativeAudioBinding } from "./audio-binding.js";
import type {
  LayerOptions,
  DeviceInfo,
  EncodedFrame,
  Negotiated,
  PipelineOptions,
  PipelineStats,
  Snapshot,
  SnapshotOptions,
} from "./types.js";

export type NativeEvent = ["frame", EncodedFrame] | ["error", Error, boolean] | ["unplugged"];

export interface NativePipeline {
  start(): void;
  stop(): void;
  close(): void;
  setBitrate(kbps: number): void;
  /** Throws the DeviceError for the camera's own H.264. */
  setFrameRate(fps: number): void;
  setEncodedSize(size: { width: number; height: number }): void;
  requestKeyFrame(): void;
  /** Returns the encoder the layer got; throws the DeviceError when it cannot run. */
  startLayer(options: LayerOptions): "hardware" | "software";
  stopLayer(): void;
  setLayerBitrate(kbps: number): void;
  requestLayerKeyFrame(): void;
  stats(): PipelineStats;
  negotiated(): Negotiated & { dmabuf: boolean };
  /** Rejects with an Error whose code is "snapshot" and `reason` a SnapshotFailureReason. */
  snapshot(options?: SnapshotOptions): Promise<Snapshot>;
}

export interface NativeBinding extends NativeAudioBinding {
  listDevices(): DeviceInfo[];
  /** sd_notify(3): one datagram `state` to the AF_UNIX socket `socketPath` ('@' = abstract). */
  sdNotify(socketPath: string, state: string): void;
  NativePipeline: new (
    options: PipelineOptions,
    onEvent: (...event: NativeEvent) => void,
  ) => NativePipeline;
}

const ADDON = join("native", "build", "Release", "camgw_native.node");

/**
 * The addon's one locator: every place that needs the .node file's path
 * (loadBinding here, the virtual-board tests, the bench) asks it. Finds
 * $CAMGW_NATIVE_ADDON, else the nearest native/build/Release/camgw_native.node
 * walking up from `from` (default: this module). That covers native/lib/*.ts
 * under vitest (repo/native/lib), the compiled build/native/lib/*.js
 * (repo/build/native/lib) and the Debian package (/opt/camgw) alike.
 * Throws when there is no such file.
 */
export function locateAddon(
  from: string = dirname(fileURLToPath(import.meta.url)),
  env: NodeJS.ProcessEnv = process.env,
): string {
  const override = env.CAMGW_NATIVE_ADDON;
  if (override !== undefined && override !== "") {
    const path = resolve(override);
    if (!existsSync(path))
      throw new Error(`CAMGW_NATIVE_ADDON names ${path}, which does not exist`);
    return path;
  }
  let dir = from;
  for (;;) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    `camgw native addon not found above ${from} (looked for ${ADDON}); run \`make native-build\` or set CAMGW_NATIVE_ADDON`,
  );
}

let cached: NativeBinding | undefined;

export function loadBinding(): NativeBinding {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    cached = require(locateAddon()) as NativeBinding;
  }
  return cached;
}
