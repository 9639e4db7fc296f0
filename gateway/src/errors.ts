/**
 * The small named set of errors camgw raises, one meaning each. Each carries
 * a stable `code` and the context a person needs to act on it (which device,
 * which key, which session), so logs and replies never say just "failed".
 * Isomorphic: the browser viewer bundles it, so it imports nothing from node:.
 */
import type { ErrorCode } from "./signaling/message-types.js";

export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

export class CamgwError extends Error {
  readonly code: string;
  readonly context: ErrorContext;

  constructor(code: string, message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** Invalid configuration, environment variable or command-line flag. */
export class ConfigError extends CamgwError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super("config", message, context, options);
  }
}

/** A camera, encoder or pipe source failed or went away. */
export class SourceError extends CamgwError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super("source", message, context, options);
  }
}

/**
 * The state directory (docs/security.md: accounts, the device's secret, the
 * TLS key) or a file in it cannot be used: not writable, owned by another
 * user, or a file that is not what camgw wrote. The message names the path.
 */
export class StateError extends CamgwError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super("state", message, context, options);
  }
}

/**
 * A viewer's signaling message was refused. `code` is the spec's error code
 * and nothing else: it is what the viewer reads in the `error` reply and what
 * /metrics counts refusals by (signaling-v1, "Messages").
 */
export class SignalingError extends CamgwError {
  declare readonly code: ErrorCode;

  constructor(
    code: ErrorCode,
    message: string,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
  }
}

/**
 * What went wrong on a link to an MQTT broker:
 * - `refused`: the broker refused the connection (CONNACK: bad username or
 *   password, not authorized, client id or protocol rejected);
 * - `tls`: the TLS handshake failed (untrusted or invalid certificate);
 * - `unreachable`: nothing answered, the connection dropped, or no CONNACK
 *   came in time;
 * - `subscription`: the broker refused a subscription (SUBACK 0x80, an ACL);
 * - `publish`: a message could not be published;
 * - `closed`: the link was closed on our side while something waited on it.
 */
export type BrokerErrorCode =
  "refused" | "tls" | "unreachable" | "subscription" | "publish" | "closed";

/** The link to an MQTT broker failed; never sent to a viewer. */
export class BrokerError extends CamgwError {
  declare readonly code: BrokerErrorCode;

  constructor(
    code: BrokerErrorCode,
    message: string,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
  }
}

/**
 * What went wrong pushing the stream to a WHIP server (RFC 9725):
 * - `refused`: the server said no (401/403 token, 404 endpoint, 4xx offer);
 * - `unreachable`: no answer, a network error, or a 5xx (it may come back);
 * - `protocol`: an answer that is not WHIP (201 without Location or SDP);
 * - `lost`: a session that was up ended (ICE failed, consent expired).
 */
export type EgressErrorCode = "refused" | "unreachable" | "protocol" | "lost";

/** The WHIP egress failed; it keeps retrying, so this is for the log and /metrics. */
export class EgressError extends CamgwError {
  declare readonly code: EgressErrorCode;

  constructor(
    code: EgressErrorCode,
    message: string,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
  }
}

/**
 * A snapshot (docs/snapshots.md) was refused or could not be made:
 * - `bad-request`: a width that is not an integer from 16 to the camera's
 *   width, or an unknown stream (HTTP 400);
 * - `unsupported`: the source gives no raw frames (a camera's own H.264
 *   passed through, a pipe command) and camgw has no H.264 decoder (501);
 * - `busy`: too many snapshots at once, or this client asks too often
 *   (429 / 503 with Retry-After);
 * - `unavailable`: the camera gave no frame in time (unplugged, recovering,
 *   stopping) (503 with Retry-After).
 */
export type SnapshotErrorCode = "bad-request" | "unsupported" | "busy" | "unavailable";

export class SnapshotError extends CamgwError {
  declare readonly code: SnapshotErrorCode;

  constructor(
    code: SnapshotErrorCode,
    message: string,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
  }
}
