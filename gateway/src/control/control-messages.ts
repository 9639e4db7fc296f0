/**
 * The control channel's messages (docs/control.md): JSON text over one
 * reliable, ordered DataChannel per session, labelled CONTROL_LABEL and
 * opened by the viewer. Isomorphic: the web viewer, the tests and the
 * bench use the same types and checks as the gateway.
 */

export const CONTROL_LABEL = "camgw-control";
/** Largest message either side sends or accepts, in bytes of UTF-8. */
export const MAX_CONTROL_MESSAGE = 16_384;
/** Largest `app` payload (its JSON), bytes: the rest of a message is the envelope. */
export const MAX_APP_DATA = 8_192;
/** Raw snapshot bytes per chunk (base64 makes them 4/3 as many characters). */
export const SNAPSHOT_CHUNK = 9_000;

export type RequestId = number | string;

export type ControlRequest =
  | { id?: RequestId; type: "ping" }
  | { id?: RequestId; type: "keyframe" }
  | { id?: RequestId; type: "snapshot" }
  | { id?: RequestId; type: "bitrate"; kbps: number }
  | { id?: RequestId; type: "resolution"; width: number; height: number }
  | { id?: RequestId; type: "stats" }
  | { id?: RequestId; type: "app"; data: unknown };

export type ControlRequestType = ControlRequest["type"];

export const CONTROL_REQUEST_TYPES: readonly ControlRequestType[] = [
  "ping",
  "keyframe",
  "snapshot",
  "bitrate",
  "resolution",
  "stats",
  "app",
];

export const CONTROL_ERROR_CODES = [
  /** Not JSON, not an object, a field missing or of the wrong type, binary. */
  "bad-request",
  /** A `type` this device does not know. */
  "unknown-command",
  /** Over MAX_CONTROL_MESSAGE (or an `app` payload over MAX_APP_DATA). */
  "too-large",
  /** More requests than the channel's rate allows. */
  "rate-limited",
  /** Config does not let this viewer (or anyone) do it. */
  "forbidden",
  /** A value outside what config allows. */
  "out-of-range",
  /** The device has no such feature now (no snapshot encoder, no program on the app socket). */
  "unavailable",
  /** Another change of the same kind is under way. */
  "busy",
  /** It was tried and did not work (the camera refused a size). */
  "failed",
] as const;

export type ControlErrorCode = (typeof CONTROL_ERROR_CODES)[number];

export interface ControlError {
  id?: RequestId;
  type: "error";
  code: ControlErrorCode;
  message: string;
}

/** What the device sends: replies (carrying the request's id) and notices (without one). */
export type ControlReply =
  | { id?: RequestId; type: "pong"; ts: number }
  | ({ id?: RequestId; type: "ok"; request: ControlRequestType } & Record<string, unknown>)
  | { id?: RequestId; type: "stats"; stats: Record<string, unknown> }
  | { id?: RequestId; type: "snapshot"; mime: string; size: number; chunks: number }
  | { id?: RequestId; type: "snapshot-chunk"; seq: number; data: string }
  | { type: "app"; data: unknown }
  | { type: "talk"; state: "busy"; holder: "another viewer" }
  | ControlError;

export type Parsed = { ok: true; request: ControlRequest } | { ok: false; error: ControlError };

const ID = /^[\w.:-]{1,64}$/;

function isRequestId(value: unknown): value is RequestId {
  return (
    (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) ||
    (typeof value === "string" && ID.test(value))
  );
}

function fail(code: ControlErrorCode, message: string, id?: RequestId): Parsed {
  return {
    ok: false,
    error: { ...(id === undefined ? {} : { id }), type: "error", code, message },
  };
}

const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

/**
 * Checks one message from a viewer, in this order: binary, size, JSON
 * object, id, type known, fields. The first failure is the error reply.
 */
export function parseControlRequest(message: string | Uint8Array): Parsed {
  if (typeof message !== "string") return fail("bad-request", "control messages are JSON text");
  if (utf8Length(message) > MAX_CONTROL_MESSAGE) {
    return fail("too-large", `a control message has at most ${MAX_CONTROL_MESSAGE} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return fail("bad-request", "not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("bad-request", "a control message is a JSON object");
  }
  const object = value as Record<string, unknown>;
  const rawId = object.id;
  if (rawId !== undefined && !isRequestId(rawId)) {
    return fail("bad-request", "id must be a non-negative integer or 1-64 characters of [\\w.:-]");
  }
  const id = rawId;
  const type = object.type;
  if (typeof type !== "string") return fail("bad-request", "type must be a string", id);
  const base = id === undefined ? {} : { id };
  switch (type) {
    case "ping":
    case "keyframe":
    case "snapshot":
    case "stats":
      return { ok: true, request: { ...base, type } };
    case "bitrate": {
      const kbps = object.kbps;
      if (typeof kbps !== "number" || !Number.isInteger(kbps) || kbps <= 0) {
        return fail("bad-request", "bitrate needs kbps, a positive whole number", id);
      }
      return { ok: true, request: { ...base, type, kbps } };
    }
    case "resolution": {
      const { width, height } = object;
      const dimension = (n: unknown): n is number =>
        typeof n === "number" && Number.isInteger(n) && n > 0 && n <= 8192;
      if (!dimension(width) || !dimension(height)) {
        return fail("bad-request", "resolution needs width and height, whole numbers", id);
      }
      return { ok: true, request: { ...base, type, width, height } };
    }
    case "app": {
      if (!("data" in object)) return fail("bad-request", "app needs data", id);
      if (utf8Length(JSON.stringify(object.data)) > MAX_APP_DATA) {
        return fail("too-large", `app data has at most ${MAX_APP_DATA} bytes of JSON`, id);
      }
      return { ok: true, request: { ...base, type, data: object.data } };
    }
    default:
      return fail("unknown-command", `unknown type "${type.slice(0, 40)}"`, id);
  }
}
