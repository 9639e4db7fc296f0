/**
 * Topic names of signaling v1 (docs/signaling.md, "Topics"). Isomorphic: the
 * browser viewer bundles this file, so it imports nothing from node:.
 *
 *   <prefix>/<deviceId>/status            device -> everyone, retained, QoS 1
 *   <prefix>/<deviceId>/rx/<viewerId>     viewer -> device, QoS 1
 *   <prefix>/<deviceId>/tx/<viewerId>     device -> viewer, QoS 1
 */
export const DEFAULT_PREFIX = "camgw";

/** deviceId, viewerId and session: 1-64 chars of [A-Za-z0-9_-]. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** One or more levels of [A-Za-z0-9_-] joined by "/": no wildcards, no empty level. */
export const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;

export function isValidId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

export function isValidPrefix(value: unknown): value is string {
  return typeof value === "string" && PREFIX_PATTERN.test(value);
}

function checkPrefix(prefix: string): void {
  if (!isValidPrefix(prefix)) {
    throw new RangeError(
      `invalid topic prefix ${JSON.stringify(prefix)}: use levels of [A-Za-z0-9_-] joined by "/"`,
    );
  }
}

function checkId(what: string, id: string): void {
  if (!isValidId(id)) {
    throw new RangeError(`invalid ${what} ${JSON.stringify(id)}: use 1-64 chars of [A-Za-z0-9_-]`);
  }
}

export function statusTopic(prefix: string, deviceId: string): string {
  checkPrefix(prefix);
  checkId("deviceId", deviceId);
  return `${prefix}/${deviceId}/status`;
}

export function rxTopic(prefix: string, deviceId: string, viewerId: string): string {
  checkPrefix(prefix);
  checkId("deviceId", deviceId);
  checkId("viewerId", viewerId);
  return `${prefix}/${deviceId}/rx/${viewerId}`;
}

export function txTopic(prefix: string, deviceId: string, viewerId: string): string {
  checkPrefix(prefix);
  checkId("deviceId", deviceId);
  checkId("viewerId", viewerId);
  return `${prefix}/${deviceId}/tx/${viewerId}`;
}

/** What a device subscribes to: every viewer's messages to it. */
export function deviceRxFilter(prefix: string, deviceId: string): string {
  checkPrefix(prefix);
  checkId("deviceId", deviceId);
  return `${prefix}/${deviceId}/rx/+`;
}

/** What a viewer subscribes to for the live device list. */
export function statusFilter(prefix: string): string {
  checkPrefix(prefix);
  return `${prefix}/+/status`;
}

export type ParsedTopic =
  | { kind: "status"; deviceId: string }
  | { kind: "rx"; deviceId: string; viewerId: string }
  | { kind: "tx"; deviceId: string; viewerId: string };

/**
 * Splits a topic under `prefix` into its parts; null when the topic is not a
 * signaling v1 topic under that prefix or an id in it is invalid.
 */
export function parseTopic(prefix: string, topic: string): ParsedTopic | null {
  if (!topic.startsWith(`${prefix}/`)) return null;
  const levels = topic.slice(prefix.length + 1).split("/");
  const [deviceId, kind, viewerId] = levels;
  if (!isValidId(deviceId)) return null;
  if (levels.length === 2 && kind === "status") return { kind: "status", deviceId };
  if (levels.length === 3 && (kind === "rx" || kind === "tx") && isValidId(viewerId)) {
    return { kind, deviceId, viewerId };
  }
  return null;
}

/**
 * A random id valid as viewerId or session (base64url alphabet is a subset of
 * [A-Za-z0-9_-]). Uses Web Crypto, present in browsers and Node 20.
 */
export function randomId(length = 16): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let id = "";
  // 256 is a multiple of 64, so `& 63` keeps the distribution uniform.
  for (const byte of bytes) id += alphabet.charAt(byte & 63);
  return id;
}
