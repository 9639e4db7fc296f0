/**
 * Signaling v1 message types, constants and builders (docs/signaling.md).
 * Isomorphic: no node: imports. Import them through messages.ts.
 */

export const PROTOCOL_VERSION = 1;
/** An MQTT payload over 64 KiB is not parsed (spec, "Messages"). */
export const MAX_PAYLOAD_BYTES = 65_536;
export const DEFAULT_STREAM = "main";
/**
 * The largest JPEG a `snapshot` reply carries: base64 makes it 4/3 as large,
 * and the whole reply must stay under MAX_PAYLOAD_BYTES, which the viewer
 * enforces too (docs/signaling.md, "Snapshots").
 */
export const MAX_SNAPSHOT_JPEG_BYTES = 48_000;

export const ERROR_CODES = [
  "bad-request",
  "unsupported",
  "busy",
  "unauthorized",
  "not-found",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const BYE_REASONS = [
  "shutdown",
  "timeout",
  "ice-failed",
  "source-lost",
  "replaced",
  "kicked",
] as const;
export type ByeReason = (typeof BYE_REASONS)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

export function isByeReason(value: unknown): value is ByeReason {
  return typeof value === "string" && (BYE_REASONS as readonly string[]).includes(value);
}

/** RTCIceCandidateInit as it travels: `candidate` plus sdpMid and/or sdpMLineIndex. */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/**
 * Whether a stream's camera gives frames (docs/signaling.md, "source"):
 * `live`, `recovering` (a watchdog restarts the encoder or camera) or
 * `unavailable` (the camera is gone; the device reopens it when it is back).
 * A viewer treats a state it does not know as not live.
 */
export const SOURCE_STATES = ["live", "recovering", "unavailable"] as const;
export type SourceState = (typeof SOURCE_STATES)[number];

export function isSourceState(value: unknown): value is SourceState {
  return typeof value === "string" && (SOURCE_STATES as readonly string[]).includes(value);
}

/** A stream's source state as the device reports it; `reason` (a short token) only when not live. */
export interface SourceUpdate {
  stream: string;
  state: SourceState;
  reason?: string;
}

/**
 * One STUN/TURN server as RTCPeerConnection takes it (W3C RTCIceServer):
 * stun:, turn: or turns: URLs; TURN ones with the credentials to use.
 */
export interface IceServerEntry {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** A URL a viewer may be given: stun:, turn: or turns:, nothing else (no spaces). */
export const ICE_SERVER_URL = /^(stun|turn|turns):[^\s]+$/;

export interface StreamInfo {
  id: string;
  codec: string;
  width: number;
  height: number;
  fps: number;
  /** The source's state (absent from older devices: live). */
  state?: SourceState;
  /** Why it is not live, e.g. "unplugged". */
  reason?: string;
}

export interface OnlineStatus {
  v: 1;
  type: "status";
  online: true;
  name: string;
  version: string;
  streams: StreamInfo[];
  /** Milliseconds since the Unix epoch. */
  ts: number;
}
export interface OfflineStatus {
  v: 1;
  type: "status";
  online: false;
}
export type StatusMessage = OnlineStatus | OfflineStatus;

export interface OfferMessage {
  v: 1;
  type: "offer";
  session: string;
  sdp: string;
  /** Filled with "main" by the parser when the viewer left it out. */
  stream: string;
}
export interface CandidateMessage {
  v: 1;
  type: "candidate";
  session: string;
  /** null is end-of-candidates. */
  candidate: IceCandidate | null;
}
export interface ByeMessage {
  v: 1;
  type: "bye";
  session: string;
  /** Set by the device; a viewer's bye carries none. */
  reason?: ByeReason;
}
/**
 * A viewer asks for the STUN/TURN servers it should use with this device
 * (docs/signaling.md, "ICE servers"); the device replies with an
 * IceServersMessage on the same viewer's tx topic.
 */
export interface IceServersRequest {
  v: 1;
  type: "ice-servers";
}
export interface AnswerMessage {
  v: 1;
  type: "answer";
  session: string;
  sdp: string;
}
/** The source of a session's stream changed state (an extension of v1 that older viewers ignore). */
export interface SourceMessage extends SourceUpdate {
  v: 1;
  type: "source";
  session: string;
}
export interface ErrorMessage {
  v: 1;
  type: "error";
  session?: string;
  code: ErrorCode;
  message: string;
}

/** The device's reply to an IceServersRequest: servers for this viewer, credentials made for it. */
export interface IceServersMessage {
  v: 1;
  type: "ice-servers";
  /** Empty when the device has none (a LAN): host candidates only. */
  iceServers: IceServerEntry[];
  /** Seconds the credentials in it stay valid; absent when it has none. */
  ttl?: number;
}
/**
 * The device asks the viewer to restart ICE on a session (a new offer for
 * the same session), e.g. because its own address changed.
 */
export interface IceRestartMessage {
  v: 1;
  type: "ice-restart";
  session: string;
  /** Why, for people and logs: "address-changed", "consent-lost", or a newer reason. */
  reason?: string;
}

/**
 * A viewer asks for a JPEG of a stream's next frame, without a WebRTC
 * session (docs/signaling.md, "Snapshots"). `session` is the request's own
 * id (the syntax of a session id): the reply and any error carry it.
 */
export interface SnapshotRequestMessage {
  v: 1;
  type: "snapshot";
  session: string;
  /** Filled with "main" by the parser when the viewer left it out. */
  stream: string;
  /** Width of the JPEG (16 .. the camera's width); absent: the device's choice. */
  width?: number;
}
/** The device's reply to a SnapshotRequestMessage. */
export interface SnapshotMessage {
  v: 1;
  type: "snapshot";
  session: string;
  stream: string;
  mime: "image/jpeg";
  width: number;
  height: number;
  /** When the frame was captured, ms since the Unix epoch. */
  ts: number;
  /** The JPEG, base64 (RFC 4648 section 4), at most MAX_SNAPSHOT_JPEG_BYTES before encoding. */
  data: string;
}

/** What a viewer sends on rx/<viewerId>. */
export type DeviceInbound =
  OfferMessage | CandidateMessage | ByeMessage | IceServersRequest | SnapshotRequestMessage;
/** What a device sends on tx/<viewerId>. */
export type ViewerInbound =
  | AnswerMessage
  | CandidateMessage
  | ByeMessage
  | ErrorMessage
  | SourceMessage
  | IceServersMessage
  | IceRestartMessage
  | SnapshotMessage;
export type SignalingMessage = StatusMessage | DeviceInbound | ViewerInbound;

// ---- builders -------------------------------------------------------------

export function onlineStatus(info: {
  name: string;
  version: string;
  streams: StreamInfo[];
  ts?: number;
}): OnlineStatus {
  return {
    v: 1,
    type: "status",
    online: true,
    name: info.name,
    version: info.version,
    streams: info.streams,
    ts: info.ts ?? Date.now(),
  };
}

export function offlineStatus(): OfflineStatus {
  return { v: 1, type: "status", online: false };
}

export function offerMessage(
  session: string,
  sdp: string,
  stream: string = DEFAULT_STREAM,
): OfferMessage {
  return { v: 1, type: "offer", session, sdp, stream };
}

export function candidateMessage(
  session: string,
  candidate: IceCandidate | null,
): CandidateMessage {
  return { v: 1, type: "candidate", session, candidate };
}

export function byeMessage(session: string, reason?: ByeReason): ByeMessage {
  return reason === undefined
    ? { v: 1, type: "bye", session }
    : { v: 1, type: "bye", session, reason };
}

export function answerMessage(session: string, sdp: string): AnswerMessage {
  return { v: 1, type: "answer", session, sdp };
}

export function sourceMessage(session: string, update: SourceUpdate): SourceMessage {
  const { stream, state, reason } = update;
  return reason === undefined
    ? { v: 1, type: "source", session, stream, state }
    : { v: 1, type: "source", session, stream, state, reason };
}

export function errorMessage(code: ErrorCode, message: string, session?: string): ErrorMessage {
  return session === undefined
    ? { v: 1, type: "error", code, message }
    : { v: 1, type: "error", session, code, message };
}

export function iceServersRequest(): IceServersRequest {
  return { v: 1, type: "ice-servers" };
}

export function iceServersMessage(iceServers: IceServerEntry[], ttl?: number): IceServersMessage {
  return ttl === undefined
    ? { v: 1, type: "ice-servers", iceServers }
    : { v: 1, type: "ice-servers", iceServers, ttl };
}

export function iceRestartMessage(session: string, reason?: string): IceRestartMessage {
  return reason === undefined
    ? { v: 1, type: "ice-restart", session }
    : { v: 1, type: "ice-restart", session, reason };
}

export function snapshotRequest(
  session: string,
  options: { stream?: string; width?: number } = {},
): SnapshotRequestMessage {
  const stream = options.stream ?? DEFAULT_STREAM;
  return options.width === undefined
    ? { v: 1, type: "snapshot", session, stream }
    : { v: 1, type: "snapshot", session, stream, width: options.width };
}

export function snapshotMessage(
  session: string,
  stream: string,
  picture: { width: number; height: number; ts: number; data: string },
): SnapshotMessage {
  return { v: 1, type: "snapshot", session, stream, mime: "image/jpeg", ...picture };
}

/** The wire form: UTF-8 JSON (MQTT.js encodes the string as UTF-8). */
export function encodeMessage(message: SignalingMessage): string {
  return JSON.stringify(message);
}
