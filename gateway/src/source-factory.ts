import { findCamera, listDevices, NativeDeviceError } from "../../native/lib/index.js";
import type { Config } from "./config.js";
import { ConfigError, SourceError } from "./errors.js";
import { PipeSource } from "./media/pipe-source.js";
import type { H264Source } from "./media/source.js";
import { SupervisedSource } from "./media/supervised-source.js";
import { V4l2Source, type V4l2SourceOptions } from "./media/v4l2-source.js";

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

/**
 * Builds the configured source, supervised (media/supervised-source.ts): it
 * reopens the camera or command after a failure and restarts it when it
 * stalls, and gives up only after `source-timeout` minutes. The camera is
 * opened here once, so a bad device still fails at start-up. The caller has
 * already re-executed on the virtual board for "sim".
 */
export function createSource(config: Config): H264Source {
  const { width, height } = config.size;
  const spec = config.source;
  const lostAfterMs = config["source-timeout"] * 60_000;
  if (spec.kind === "pipe") {
    const info = { width, height, fps: config.fps };
    const open = (): PipeSource => new PipeSource({ command: spec.command, info });
    return new SupervisedSource({
      name: `pipe:${spec.command}`,
      info,
      open,
      initial: open(),
      lostAfterMs,
      // A camera command takes a while to start (rpicam-vid: ~1-2 s to its
      // first frame) and may write in bursts: quiet means seconds, not frames.
      startGraceMs: 5000,
      noticeMs: 1000,
      restartMs: 2000,
    });
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
  const options: V4l2SourceOptions = {
    device,
    width,
    height,
    fps: config.fps,
    encoder: config.encoder,
    bitrateKbps: config.bitrate,
    keyframeInterval: config["keyframe-interval"],
  };
  let initial: V4l2Source;
  try {
    initial = V4l2Source.open(options);
  } catch (err) {
    throw explainOpenError(err, device);
  }
  return new SupervisedSource({
    name: initial.name,
    info: initial.info,
    initial,
    open: (mode) =>
      V4l2Source.open({
        ...options,
        ...(mode === "fallback" ? { encoder: "software" as const } : {}),
      }),
    resizable: true,
    // Only an encoder camgw chose may be swapped: one the user named stays.
    canFallBack: config.encoder === "auto" && initial.negotiated?.encoder === "hardware",
    devicePath: device,
    lostAfterMs,
  });
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
