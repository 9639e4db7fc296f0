/**
 * The checks of signaling v1 (docs/signaling.md, "How a device checks a
 * message"), in the spec's order. Isomorphic: no node: imports. Import them
 * through messages.ts.
 */
import {
  DEFAULT_STREAM,
  MAX_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
  answerMessage,
  byeMessage,
  candidateMessage,
  errorMessage,
  iceRestartMessage,
  iceServersMessage,
  iceServersRequest,
  ICE_SERVER_URL,
  isByeReason,
  isErrorCode,
  isSourceState,
  offerMessage,
  offlineStatus,
  onlineStatus,
  snapshotMessage,
  snapshotRequest,
  sourceMessage,
  type DeviceInbound,
  type IceCandidate,
  type IceServerEntry,
  type StatusMessage,
  type StreamInfo,
  type ViewerInbound,
} from "./message-types.js";
import { isValidId } from "./topics.js";

/** What a device does with one message on rx/<viewerId> after steps 1-4 of the spec. */
export type DeviceParseResult =
  | { kind: "message"; msg: DeviceInbound }
  | { kind: "reply-error"; code: "bad-request"; session?: string; message: string; step: 1 | 2 | 4 }
  | { kind: "ignore"; why: string };

/** What a viewer does with one message on tx/<viewerId>; it never replies. */
export type ViewerParseResult =
  | { kind: "message"; msg: ViewerInbound }
  | { kind: "invalid"; session?: string; why: string }
  | { kind: "ignore"; why: string };

/** A retained status; an empty retained payload means the status was cleared. */
export type StatusParseResult =
  | { kind: "status"; status: StatusMessage }
  | { kind: "cleared" }
  | { kind: "invalid"; why: string };

type JsonObject = Record<string, unknown>;
type Step<T> = { ok: true; value: T } | { ok: false; why: string };

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

function payloadBytes(payload: Uint8Array | string): number {
  if (typeof payload !== "string") return payload.byteLength;
  // A UTF-16 unit encodes to 1-3 UTF-8 bytes: skip the encode when the bound decides.
  if (payload.length > MAX_PAYLOAD_BYTES) return payload.length;
  if (payload.length * 3 <= MAX_PAYLOAD_BYTES) return payload.length;
  return utf8Encoder.encode(payload).byteLength;
}

/** Spec step 1: size, UTF-8 JSON, an object. */
function decodeObject(payload: Uint8Array | string): Step<JsonObject> {
  const bytes = payloadBytes(payload);
  if (bytes > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      why: `payload of ${bytes} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`,
    };
  }
  let text: string;
  try {
    text = typeof payload === "string" ? payload : utf8Decoder.decode(payload);
  } catch {
    return { ok: false, why: "payload is not UTF-8" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      why: `payload is not JSON (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, why: "payload is not a JSON object" };
  }
  return { ok: true, value: value as JsonObject };
}

/** Spec step 2: `v` is the number 1 and `type` a string. */
function checkHeader(obj: JsonObject): Step<string> {
  if (!("v" in obj)) return { ok: false, why: '"v" is missing' };
  if (obj.v !== PROTOCOL_VERSION)
    return { ok: false, why: `"v" must be the number ${PROTOCOL_VERSION}` };
  if (!("type" in obj)) return { ok: false, why: '"type" is missing' };
  if (typeof obj.type !== "string") return { ok: false, why: '"type" must be a string' };
  return { ok: true, value: obj.type };
}

function sessionOf(obj: JsonObject): string | undefined {
  return isValidId(obj.session) ? obj.session : undefined;
}

function checkSession(obj: JsonObject): Step<string> {
  if (!("session" in obj)) return { ok: false, why: '"session" is missing' };
  if (!isValidId(obj.session))
    return { ok: false, why: '"session" must be 1-64 chars of [A-Za-z0-9_-]' };
  return { ok: true, value: obj.session };
}

function checkString(obj: JsonObject, field: string): Step<string> {
  const value = obj[field];
  if (value === undefined) return { ok: false, why: `"${field}" is missing` };
  if (typeof value !== "string") return { ok: false, why: `"${field}" must be a string` };
  return { ok: true, value };
}

/** A candidate: an object with `candidate` (string) and sdpMid (string) and/or sdpMLineIndex (integer), or null. */
function checkCandidate(obj: JsonObject): Step<IceCandidate | null> {
  if (!("candidate" in obj))
    return { ok: false, why: '"candidate" is missing (null means end-of-candidates)' };
  const c = obj.candidate;
  if (c === null) return { ok: true, value: null };
  if (typeof c !== "object" || Array.isArray(c))
    return { ok: false, why: '"candidate" must be an object or null' };
  const fields = c as JsonObject;
  if (typeof fields.candidate !== "string")
    return { ok: false, why: '"candidate.candidate" must be a string' };
  const { sdpMid, sdpMLineIndex, usernameFragment } = fields;
  if (sdpMid !== undefined && sdpMid !== null && typeof sdpMid !== "string") {
    return { ok: false, why: '"candidate.sdpMid" must be a string' };
  }
  const indexOk =
    typeof sdpMLineIndex === "number" && Number.isInteger(sdpMLineIndex) && sdpMLineIndex >= 0;
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null && !indexOk) {
    return { ok: false, why: '"candidate.sdpMLineIndex" must be a non-negative integer' };
  }
  if (typeof sdpMid !== "string" && !indexOk) {
    return { ok: false, why: '"candidate" needs "sdpMid" (string) or "sdpMLineIndex" (integer)' };
  }
  const value: IceCandidate = { candidate: fields.candidate };
  if (typeof sdpMid === "string") value.sdpMid = sdpMid;
  if (indexOk) value.sdpMLineIndex = sdpMLineIndex;
  if (typeof usernameFragment === "string") value.usernameFragment = usernameFragment;
  return { ok: true, value };
}

/** One RTCIceServer: `urls` a stun:/turn:/turns: URL or a non-empty list of them, optional strings. */
function checkIceServer(value: unknown, index: number): Step<IceServerEntry> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, why: `iceServers[${index}] is not an object` };
  }
  const s = value as JsonObject;
  const urls = typeof s.urls === "string" ? [s.urls] : s.urls;
  if (!Array.isArray(urls) || urls.length === 0) {
    return {
      ok: false,
      why: `iceServers[${index}].urls must be a URL or a non-empty list of them`,
    };
  }
  for (const url of urls as unknown[]) {
    if (typeof url !== "string" || !ICE_SERVER_URL.test(url)) {
      return {
        ok: false,
        why: `iceServers[${index}].urls: ${JSON.stringify(url)} is not a stun:, turn: or turns: URL`,
      };
    }
  }
  for (const key of ["username", "credential"] as const) {
    if (s[key] !== undefined && typeof s[key] !== "string") {
      return { ok: false, why: `iceServers[${index}].${key} must be a string` };
    }
  }
  return {
    ok: true,
    value: {
      urls: typeof s.urls === "string" ? s.urls : [...(urls as string[])],
      ...(typeof s.username === "string" ? { username: s.username } : {}),
      ...(typeof s.credential === "string" ? { credential: s.credential } : {}),
    },
  };
}

function checkIceServers(obj: JsonObject): Step<{ iceServers: IceServerEntry[]; ttl?: number }> {
  if (!Array.isArray(obj.iceServers)) return { ok: false, why: '"iceServers" must be a list' };
  const iceServers: IceServerEntry[] = [];
  for (const [index, raw] of (obj.iceServers as unknown[]).entries()) {
    const server = checkIceServer(raw, index);
    if (!server.ok) return server;
    iceServers.push(server.value);
  }
  const { ttl } = obj;
  if (ttl !== undefined && (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl <= 0)) {
    return { ok: false, why: '"ttl" must be a positive number of seconds' };
  }
  return { ok: true, value: ttl === undefined ? { iceServers } : { iceServers, ttl } };
}

/** A JPEG width as a snapshot request names it: absent, or an integer 16..16384. */
function checkSnapshotWidth(obj: JsonObject): Step<number | undefined> {
  const { width } = obj;
  if (width === undefined) return { ok: true, value: undefined };
  if (typeof width !== "number" || !Number.isInteger(width) || width < 16 || width > 16384) {
    return { ok: false, why: '"width" must be an integer from 16 to 16384' };
  }
  return { ok: true, value: width };
}

/** base64 (RFC 4648 section 4), padded. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The fields of a device's snapshot reply. */
function checkSnapshotReply(session: string, obj: JsonObject): Step<ViewerInbound> {
  const stream = checkString(obj, "stream");
  if (!stream.ok) return stream;
  if (obj.mime !== "image/jpeg") return { ok: false, why: '"mime" must be "image/jpeg"' };
  for (const key of ["width", "height"] as const) {
    const v = obj[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      return { ok: false, why: `"${key}" must be a positive integer` };
    }
  }
  if (typeof obj.ts !== "number" || !Number.isFinite(obj.ts)) {
    return { ok: false, why: '"ts" must be a number (ms since the epoch)' };
  }
  if (typeof obj.data !== "string" || obj.data === "" || !BASE64.test(obj.data)) {
    return { ok: false, why: '"data" must be a JPEG in base64' };
  }
  return {
    ok: true,
    value: snapshotMessage(session, stream.value, {
      width: obj.width as number,
      height: obj.height as number,
      ts: obj.ts,
      data: obj.data,
    }),
  };
}

/** Spec step 4 for the messages a device accepts. */
function checkDeviceFields(type: DeviceInbound["type"], obj: JsonObject): Step<DeviceInbound> {
  // A request for ICE servers has no fields (a session, if any, is ignored).
  if (type === "ice-servers") return { ok: true, value: iceServersRequest() };
  const session = checkSession(obj);
  if (!session.ok) return session;
  switch (type) {
    case "offer": {
      const sdp = checkString(obj, "sdp");
      if (!sdp.ok) return sdp;
      if (obj.stream !== undefined && typeof obj.stream !== "string") {
        return { ok: false, why: '"stream" must be a string' };
      }
      return {
        ok: true,
        value: offerMessage(session.value, sdp.value, obj.stream ?? DEFAULT_STREAM),
      };
    }
    case "candidate": {
      const candidate = checkCandidate(obj);
      if (!candidate.ok) return candidate;
      return { ok: true, value: candidateMessage(session.value, candidate.value) };
    }
    case "bye":
      return { ok: true, value: byeMessage(session.value) };
    case "snapshot": {
      if (obj.stream !== undefined && typeof obj.stream !== "string") {
        return { ok: false, why: '"stream" must be a string' };
      }
      const width = checkSnapshotWidth(obj);
      if (!width.ok) return width;
      return {
        ok: true,
        value: snapshotRequest(session.value, {
          stream: obj.stream ?? DEFAULT_STREAM,
          ...(width.value === undefined ? {} : { width: width.value }),
        }),
      };
    }
  }
}

const DEVICE_TYPES: readonly string[] = [
  "offer",
  "candidate",
  "bye",
  "ice-servers",
  "snapshot",
] satisfies DeviceInbound["type"][];
const VIEWER_TYPES: readonly string[] = [
  "answer",
  "candidate",
  "bye",
  "error",
  "source",
  "ice-servers",
  "ice-restart",
  "snapshot",
] satisfies ViewerInbound["type"][];

/** A reason token as the device sends it (e.g. "unplugged"); anything else is dropped. */
const REASON = /^[a-z0-9-]{1,64}$/;

/**
 * Checks one message a device received on rx/<viewerId>, in the spec's order
 * (steps 1-4; steps 5-6 need session state and belong to the caller). The
 * first failure decides the result.
 */
export function parseDeviceInbound(payload: Uint8Array | string): DeviceParseResult {
  const decoded = decodeObject(payload);
  if (!decoded.ok)
    return { kind: "reply-error", code: "bad-request", message: decoded.why, step: 1 };
  const obj = decoded.value;
  const session = sessionOf(obj);
  const header = checkHeader(obj);
  if (!header.ok) return badRequest(header.why, session, 2);
  const type = header.value;
  if (!DEVICE_TYPES.includes(type))
    return { kind: "ignore", why: `type "${type}" is not one a device accepts` };
  const fields = checkDeviceFields(type as DeviceInbound["type"], obj);
  if (!fields.ok) return badRequest(fields.why, session, 4);
  return { kind: "message", msg: fields.value };
}

function badRequest(message: string, session: string | undefined, step: 2 | 4): DeviceParseResult {
  return session === undefined
    ? { kind: "reply-error", code: "bad-request", message, step }
    : { kind: "reply-error", code: "bad-request", session, message, step };
}

function checkViewerFields(type: ViewerInbound["type"], obj: JsonObject): Step<ViewerInbound> {
  if (type === "error") {
    // An error may have no session (step-1 failures); an unknown code from a
    // newer device is kept readable as "internal".
    const message = typeof obj.message === "string" ? obj.message : "";
    const session = sessionOf(obj);
    if (typeof obj.code !== "string") return { ok: false, why: '"code" must be a string' };
    const code = isErrorCode(obj.code) ? obj.code : "internal";
    const text = code === obj.code ? message : `${obj.code}: ${message}`;
    return { ok: true, value: errorMessage(code, text, session) };
  }
  if (type === "ice-servers") {
    const servers = checkIceServers(obj);
    if (!servers.ok) return servers;
    return { ok: true, value: iceServersMessage(servers.value.iceServers, servers.value.ttl) };
  }
  const session = checkSession(obj);
  if (!session.ok) return session;
  switch (type) {
    case "answer": {
      const sdp = checkString(obj, "sdp");
      if (!sdp.ok) return sdp;
      return { ok: true, value: answerMessage(session.value, sdp.value) };
    }
    case "candidate": {
      const candidate = checkCandidate(obj);
      if (!candidate.ok) return candidate;
      return { ok: true, value: candidateMessage(session.value, candidate.value) };
    }
    case "ice-restart":
      return {
        ok: true,
        value: iceRestartMessage(
          session.value,
          typeof obj.reason === "string" ? obj.reason : undefined,
        ),
      };
    case "bye":
      // A reason this viewer does not know (a newer device) still ends the call.
      return {
        ok: true,
        value: byeMessage(session.value, isByeReason(obj.reason) ? obj.reason : undefined),
      };
    case "source": {
      if (obj.stream !== undefined && typeof obj.stream !== "string")
        return { ok: false, why: '"stream" must be a string' };
      if (typeof obj.state !== "string") return { ok: false, why: '"state" must be a string' };
      // A state from a newer device that this viewer does not know is not live.
      const state = isSourceState(obj.state) ? obj.state : "unavailable";
      const reason =
        typeof obj.reason === "string" && REASON.test(obj.reason) ? obj.reason : undefined;
      return {
        ok: true,
        value: sourceMessage(session.value, {
          stream: obj.stream ?? DEFAULT_STREAM,
          state,
          ...(reason === undefined ? {} : { reason }),
        }),
      };
    }
    case "snapshot":
      return checkSnapshotReply(session.value, obj);
  }
}

/** Checks one message a viewer received on tx/<viewerId>, in the same order as a device does. */
export function parseViewerInbound(payload: Uint8Array | string): ViewerParseResult {
  const decoded = decodeObject(payload);
  if (!decoded.ok) return { kind: "invalid", why: decoded.why };
  const obj = decoded.value;
  const session = sessionOf(obj);
  const header = checkHeader(obj);
  if (!header.ok) return invalid(header.why, session);
  const type = header.value;
  if (!VIEWER_TYPES.includes(type))
    return { kind: "ignore", why: `type "${type}" is not one a viewer accepts` };
  const fields = checkViewerFields(type as ViewerInbound["type"], obj);
  if (!fields.ok) return invalid(fields.why, session);
  return { kind: "message", msg: fields.value };
}

function invalid(why: string, session: string | undefined): ViewerParseResult {
  return session === undefined ? { kind: "invalid", why } : { kind: "invalid", session, why };
}

function checkStream(value: unknown, index: number): Step<StreamInfo> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, why: `streams[${index}] is not an object` };
  }
  const s = value as JsonObject;
  if (typeof s.id !== "string" || typeof s.codec !== "string") {
    return { ok: false, why: `streams[${index}] needs string "id" and "codec"` };
  }
  const { width, height, fps } = s;
  if (typeof width !== "number" || typeof height !== "number" || typeof fps !== "number") {
    return { ok: false, why: `streams[${index}] needs numeric "width", "height" and "fps"` };
  }
  const info: StreamInfo = { id: s.id, codec: s.codec, width, height, fps };
  // Optional (a device that recovers its camera reports it); older devices leave it out.
  if (s.state !== undefined) info.state = isSourceState(s.state) ? s.state : "unavailable";
  if (typeof s.reason === "string" && REASON.test(s.reason)) info.reason = s.reason;
  return { ok: true, value: info };
}

/** Checks a retained message on <prefix>/<deviceId>/status. */
export function parseStatus(payload: Uint8Array | string): StatusParseResult {
  if (payload.length === 0) return { kind: "cleared" };
  const decoded = decodeObject(payload);
  if (!decoded.ok) return { kind: "invalid", why: decoded.why };
  const obj = decoded.value;
  const header = checkHeader(obj);
  if (!header.ok) return { kind: "invalid", why: header.why };
  if (header.value !== "status")
    return { kind: "invalid", why: `type "${header.value}" on a status topic` };
  if (obj.online === false) return { kind: "status", status: offlineStatus() };
  if (obj.online !== true) return { kind: "invalid", why: '"online" must be a boolean' };
  const name = checkString(obj, "name");
  if (!name.ok) return { kind: "invalid", why: name.why };
  const version = checkString(obj, "version");
  if (!version.ok) return { kind: "invalid", why: version.why };
  if (!Array.isArray(obj.streams)) return { kind: "invalid", why: '"streams" must be an array' };
  const streams: StreamInfo[] = [];
  for (const [index, raw] of (obj.streams as unknown[]).entries()) {
    const stream = checkStream(raw, index);
    if (!stream.ok) return { kind: "invalid", why: stream.why };
    streams.push(stream.value);
  }
  if (typeof obj.ts !== "number" || !Number.isFinite(obj.ts))
    return { kind: "invalid", why: '"ts" must be a number' };
  return {
    kind: "status",
    status: onlineStatus({ name: name.value, version: version.value, streams, ts: obj.ts }),
  };
}
