/**
 * The page's query string: which cameras to open and where signaling lives.
 * Links are meant to be bookmarked and shared, so parsing is forgiving (bad
 * ids are reported, not fatal) and building is canonical (one device gives
 * `?device=`, several give `?devices=a,b`).
 *
 *   ?device=porch                     one camera
 *   ?devices=porch,garage             a grid (repeated `device=` works too)
 *   &prefix=camgw/site1               topic prefix (default camgw)
 *   &broker=wss://host/mqtt           broker URL (default: the serving host)
 *   &stats=1                          stats panel shown from the start
 */
import { isValidId, isValidPrefix } from "../../gateway/src/signaling/messages.js";

export interface ViewerQuery {
  /** Cameras to open, in order, without duplicates. */
  readonly devices: readonly string[];
  readonly prefix: string | undefined;
  readonly broker: string | undefined;
  readonly stats: boolean;
  /** What was ignored and why, for a notice on the page. */
  readonly problems: readonly string[];
}

const BROKER_SCHEMES = ["ws:", "wss:"];

/** Checks a broker URL a browser can use: MQTT over WebSocket only. */
export function brokerUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `broker ${JSON.stringify(url)} is not a URL`;
  }
  if (!BROKER_SCHEMES.includes(parsed.protocol)) {
    return `broker ${JSON.stringify(url)} must be ws:// or wss:// (browsers speak MQTT over WebSocket only)`;
  }
  return undefined;
}

function truthy(value: string | null): boolean {
  return value !== null && ["1", "true", "yes", "on", ""].includes(value.toLowerCase());
}

export function parseViewerQuery(search: string): ViewerQuery {
  const params = new URLSearchParams(search);
  const problems: string[] = [];
  const devices: string[] = [];
  const candidates = [
    ...params.getAll("device"),
    ...params.getAll("devices").flatMap((list) => list.split(",")),
  ];
  for (const raw of candidates) {
    const id = raw.trim();
    if (id === "") continue;
    if (!isValidId(id)) {
      problems.push(`camera id ${JSON.stringify(id)} ignored: use 1-64 chars of A-Z a-z 0-9 _ -`);
    } else if (!devices.includes(id)) {
      devices.push(id);
    }
  }
  let prefix = params.get("prefix") ?? undefined;
  if (prefix !== undefined && !isValidPrefix(prefix)) {
    problems.push(
      `prefix ${JSON.stringify(prefix)} ignored: use levels of A-Z a-z 0-9 _ - joined by /`,
    );
    prefix = undefined;
  }
  let broker = params.get("broker") ?? undefined;
  if (broker !== undefined) {
    const problem = brokerUrlProblem(broker);
    if (problem !== undefined) {
      problems.push(`${problem}; using the saved broker`);
      broker = undefined;
    }
  }
  return { devices, prefix, broker, stats: truthy(params.get("stats")), problems };
}

/**
 * The query string for a view: keeps prefix/broker/stats when given so a
 * shared link opens the same cameras on the same broker.
 */
export function buildViewerQuery(view: {
  devices: readonly string[];
  prefix?: string | undefined;
  broker?: string | undefined;
  stats?: boolean;
}): string {
  const params = new URLSearchParams();
  if (view.devices.length === 1) params.set("device", view.devices[0] ?? "");
  else if (view.devices.length > 1) params.set("devices", view.devices.join(","));
  if (view.prefix !== undefined) params.set("prefix", view.prefix);
  if (view.broker !== undefined) params.set("broker", view.broker);
  if (view.stats === true) params.set("stats", "1");
  // Ids and prefixes never need escaping; keep the commas and slashes readable.
  const text = params.toString().replaceAll("%2C", ",").replaceAll("%2F", "/");
  return text === "" ? "" : `?${text}`;
}
