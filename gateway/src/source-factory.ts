import { findCamera, listDevices, NativeDeviceError } from "../../native/lib/index.js";
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
  try {
    return V4l2Source.open({
      device,
      width,
      height,
      fps: config.fps,
      encoder: config.encoder,
      bitrateKbps: config.bitrate,
      keyframeInterval: config["keyframe-interval"],
    });
  } catch (err) {
    throw explainOpenError(err, device);
  }
}

const SEE_DEVICES =
  "`camgw devices` lists the cameras here; `--source sim` runs on the virtual board without one";

/**
 * A camera that cannot be opened at all gets a message that says what to do
 * next; everything else (a format or encoder the device refuses) keeps the
 * addon's own message, which names the ioctl.
 */
export function explainOpenError(err: unknown, device: string): unknown {
  if (!(err instanceof NativeDeviceError) || err.context.ioctl !== "open") return err;
  const cause = `${err.context.errnoName || "error"} opening ${device}`;
  const context = { source: `v4l2:${device}`, errno: err.context.errnoName };
  switch (err.context.errnoName) {
    case "ENOENT":
    case "ENODEV":
    case "ENXIO":
      return new SourceError(`no camera at ${device} (${cause}): ${SEE_DEVICES}`, context, {
        cause: err,
      });
    case "EACCES":
    case "EPERM":
      return new SourceError(
        `not allowed to open ${device} (${cause}): add this user to the "video" group (sudo adduser $USER video, then log in again)`,
        context,
        { cause: err },
      );
    case "EBUSY":
      return new SourceError(
        `${device} is in use by another program (${cause}); \`fuser ${device}\` shows which`,
        context,
        { cause: err },
      );
    default:
      return new SourceError(`cannot open ${device}: ${err.message}; ${SEE_DEVICES}`, context, {
        cause: err,
      });
  }
}
