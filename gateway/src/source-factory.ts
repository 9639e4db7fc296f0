import { findCamera, listDevices } from "../../native/lib/index.js";
import type { Config } from "./config.js";
import { ConfigError, SourceError } from "./errors.js";
import { PipeSource } from "./media/pipe-source.js";
import type { H264Source } from "./media/source.js";
import { V4l2Source } from "./media/v4l2-source.js";

/** True when this process runs on firmware-sim's virtual board. */
export function onVirtualBoard(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.LD_PRELOAD ?? "").includes("libcamgw-vdev") && env.CAMGW_SIM_PROFILE !== undefined;
}

/**
 * Where `--source auto` leads: the first real camera if there is one, else
 * the virtual board. Returns "sim" or a device path.
 */
export function resolveAutoSource(): string {
  try {
    return findCamera(listDevices())?.path ?? "sim";
  } catch {
    // No usable V4L2 here at all (a container, a CI machine): simulate.
    return "sim";
  }
}

/** Builds the configured source; the caller has already re-executed on the virtual board for "sim". */
export function createSource(config: Config): H264Source {
  const { width, height } = config.size;
  const spec = config.source;
  if (spec.kind === "pipe") {
    return new PipeSource({ command: spec.command, info: { width, height, fps: config.fps } });
  }
  let device: string;
  if (spec.kind === "v4l2") {
    device = spec.device;
  } else {
    if (spec.kind === "sim" && !onVirtualBoard()) {
      throw new ConfigError(
        "--source sim needs the virtual board; start through `camgw run` or `firmware-sim exec`",
      );
    }
    const camera = findCamera(listDevices());
    if (!camera) throw new SourceError("no camera found", { source: spec.kind });
    device = camera.path;
  }
  return V4l2Source.open({
    device,
    width,
    height,
    fps: config.fps,
    encoder: config.encoder,
    bitrateKbps: config.bitrate,
    keyframeInterval: config["keyframe-interval"],
  });
}
