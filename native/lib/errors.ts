/**
 * Errors raised by the native addon. native/ must not import gateway/, so this
 * mirrors the shape of gateway's CamgwError ({name, code, context}) without
 * extending it; the gateway can wrap or rethrow it as it likes.
 */

export interface NativeDeviceErrorContext {
  /** Device node the call was made on, e.g. "/dev/video0". */
  device: string;
  /** The failing call, e.g. "VIDIOC_S_FMT", "open", "x264_encoder_open". */
  ioctl: string;
  /** errno of the failing call; 0 when the failure was not a system call. */
  errno: number;
  /** Symbolic errno ("EINVAL"); "" when errno is 0. */
  errnoName: string;
}

export class NativeDeviceError extends Error {
  override readonly name = "NativeDeviceError";
  readonly code = "device";
  readonly context: NativeDeviceErrorContext;

  constructor(message: string, context: NativeDeviceErrorContext, options?: ErrorOptions) {
    super(message, options);
    this.context = context;
  }
}

/**
 * Why a snapshot could not be made:
 * - `no-raw-frame`: the camera gives H.264 (passthrough); there is no raw
 *   frame, and the addon has no H.264 decoder;
 * - `not-running`: the pipeline is not streaming (start it first);
 * - `stopped`: it stopped or closed while the snapshot waited;
 * - `timeout`: no frame was captured within the time allowed;
 * - `bad-size`: the width is outside 16 .. the camera's width, or the frame
 *   is shorter than its format needs;
 * - `bad-format`: frames in a format the encoder does not read;
 * - `encode-failed`: libjpeg-turbo refused.
 */
export type SnapshotFailureReason =
  | "no-raw-frame"
  | "not-running"
  | "stopped"
  | "timeout"
  | "bad-size"
  | "bad-format"
  | "encode-failed";

const SNAPSHOT_REASONS: readonly SnapshotFailureReason[] = [
  "no-raw-frame",
  "not-running",
  "stopped",
  "timeout",
  "bad-size",
  "bad-format",
  "encode-failed",
];

export class NativeSnapshotError extends Error {
  override readonly name = "NativeSnapshotError";
  readonly code = "snapshot";
  readonly reason: SnapshotFailureReason;

  constructor(message: string, reason: SnapshotFailureReason, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

function field(o: object, key: string): unknown {
  return (o as Record<string, unknown>)[key];
}

/**
 * Converts what the addon threw (an Error with device/ioctl/errno fields) into
 * a NativeDeviceError whose stack is the JS caller's. TypeErrors (bad
 * arguments) and anything unexpected pass through unchanged.
 */
export function fromNative(err: unknown): unknown {
  if (err instanceof Error && !(err instanceof TypeError) && field(err, "code") === "snapshot") {
    const reason = field(err, "reason");
    const known = SNAPSHOT_REASONS.find((r) => r === reason);
    return new NativeSnapshotError(err.message, known ?? "encode-failed", { cause: err });
  }
  if (!(err instanceof Error) || err instanceof TypeError || field(err, "code") !== "device") {
    return err;
  }
  const device = field(err, "device");
  const ioctl = field(err, "ioctl");
  const errno = field(err, "errno");
  const errnoName = field(err, "errnoName");
  return new NativeDeviceError(
    err.message,
    {
      device: typeof device === "string" ? device : "",
      ioctl: typeof ioctl === "string" ? ioctl : "",
      errno: typeof errno === "number" ? errno : 0,
      errnoName: typeof errnoName === "string" ? errnoName : "",
    },
    { cause: err },
  );
}

/** Runs a synchronous addon call, rethrowing device errors as NativeDeviceError. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNative(err);
  }
}
