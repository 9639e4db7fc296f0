/**
 * Broker settings: URL, credentials and topic prefix. Remembered in
 * localStorage so a person types them once (or opens a pairing link once);
 * a `broker`/`prefix` in the link wins for that page load without
 * overwriting what was saved. The stored login belongs to the broker it was
 * saved with: a link naming another broker never gets it (a link
 * `?broker=wss://someone-else/` must not collect the camera's password).
 */
import { DEFAULT_PREFIX } from "../../gateway/src/signaling/messages.js";

export interface BrokerSettings {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly prefix: string;
  /** The viewer's bearer token for the gateway's HTTP side (from the pairing link); "" without one. */
  readonly token?: string;
}

/** The part of Web Storage we use (tests pass a Map-backed one). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const STORAGE_KEY = "camgw.viewer.broker";

/**
 * The gateway serves MQTT over WebSocket at /mqtt on the port that served the
 * page; an https page must use wss (browsers block ws from secure pages).
 */
export function defaultBrokerUrl(location: { protocol: string; host: string }): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/mqtt`;
}

function readStored(store: KeyValueStore): Partial<BrokerSettings> {
  let raw: string | null;
  try {
    raw = store.getItem(STORAGE_KEY);
  } catch {
    return {}; // storage disabled (private mode, sandboxed frame)
  }
  if (raw === null) return {};
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== "object" || value === null) return {};
    const obj = value as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const key of ["url", "username", "password", "prefix", "token"] as const) {
      const field = obj[key];
      if (typeof field === "string") out[key] = field;
    }
    return out;
  } catch {
    return {};
  }
}

export function loadSettings(
  store: KeyValueStore,
  location: { protocol: string; host: string },
  query: { readonly broker?: string | undefined; readonly prefix?: string | undefined },
): BrokerSettings {
  const stored = readStored(store);
  const url = query.broker ?? (stored.url || defaultBrokerUrl(location));
  const ours = (stored.url || defaultBrokerUrl(location)) === url;
  return {
    url,
    username: ours ? (stored.username ?? "") : "",
    password: ours ? (stored.password ?? "") : "",
    prefix: query.prefix ?? (stored.prefix || DEFAULT_PREFIX),
    ...(ours && stored.token ? { token: stored.token } : {}),
  };
}

/** Saves settings; `remember: false` forgets what was stored instead. */
export function saveSettings(
  store: KeyValueStore,
  settings: BrokerSettings,
  remember: boolean,
): void {
  try {
    if (remember) store.setItem(STORAGE_KEY, JSON.stringify(settings));
    else store.removeItem(STORAGE_KEY);
  } catch {
    // Storage full or disabled: the settings still apply to this page.
  }
}
