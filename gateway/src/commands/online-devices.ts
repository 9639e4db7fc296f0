import { readFileSync } from "node:fs";
import { connectNoDelay } from "../signaling/mqtt-connection.js";
import {
  ViewerClient,
  type ConnectionState,
  type DeviceState,
} from "../signaling/viewer-client.js";

/** Where the probe looks for cameras: the broker and how to log in. */
export interface BrokerLogin {
  broker: string;
  prefix?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  caFile?: string | undefined;
  insecure?: boolean | undefined;
}

/** The broker could not be reached or refused us; the message says which. */
export class BrokerUnreachable extends Error {}

/**
 * The broker answered and refused the login (CONNACK "Bad username or
 * password" or "Not authorized"): camgw's own broker lets in viewers only.
 */
export class BrokerRefusedLogin extends BrokerUnreachable {}

/** CONNACK return codes of a refused login: MQTT 3.1.1 (4, 5) and MQTT 5 (134, 135). */
const LOGIN_REFUSED = new Set([4, 5, 134, 135]);

/**
 * Every camera with a retained status under the prefix (online ones first):
 * subscribes like a viewer and takes what arrives until no new status has
 * come for the quiet time: `quietMs`, or two round trips to the broker when
 * that is longer. The broker sends retained messages right behind its
 * SUBACK, but one with Nagle's algorithm on (Mosquitto's default,
 * `set_tcp_nodelay false`) holds the first of them until the SUBACK is
 * acknowledged, a round trip later: 1 s with the network lab's broker
 * 500 ms away, where a fixed 400 ms found no camera.
 */
export async function knownDevices(
  login: BrokerLogin,
  { quietMs = 400, maxMs = 3_000, connectTimeoutMs = 5_000 } = {},
): Promise<DeviceState[]> {
  const client = new ViewerClient({
    url: login.broker,
    ...(login.prefix ? { prefix: login.prefix } : {}),
    ...(login.username ? { username: login.username } : {}),
    ...(login.password ? { password: login.password } : {}),
    connect: connectNoDelay,
    mqttOptions: {
      ...(login.caFile ? { ca: readFileSync(login.caFile) } : {}),
      ...(login.insecure ? { rejectUnauthorized: false } : {}),
      connectTimeout: connectTimeoutMs,
    },
  });
  // Errors are reported through connectedOrFailed; MQTT.js may still emit one
  // while closing, which must not become an uncaught 'error' event.
  client.on("error", () => undefined);
  try {
    await connectedOrFailed(client, login.broker, connectTimeoutMs);
    // The SUBSCRIBE went out with the connection: CONNACK to SUBACK is a round trip.
    const connectedAt = performance.now();
    let subackTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.statusSubscribed,
      new Promise((resolve) => (subackTimer = setTimeout(resolve, maxMs))),
    ]);
    clearTimeout(subackTimer);
    const rttMs = performance.now() - connectedAt;
    const quietFor = Math.max(quietMs, 2 * rttMs);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(quiet);
        clearTimeout(hardStop);
        resolve();
      };
      let quiet = setTimeout(done, quietFor);
      const hardStop = setTimeout(done, maxMs);
      client.on("device", () => {
        clearTimeout(quiet);
        quiet = setTimeout(done, quietFor);
      });
    });
    return [...client.devices.values()].sort(
      (a, b) => Number(b.online) - Number(a.online) || a.deviceId.localeCompare(b.deviceId),
    );
  } finally {
    await client.close();
  }
}

/**
 * Connected, or a BrokerUnreachable as soon as the first attempt fails
 * (refused, TLS, bad login) rather than after the whole timeout. The failure
 * is taken at the "offline" state that follows the error: closing the client
 * from inside its "error" event leaves MQTT.js 5.16's end() hanging.
 */
async function connectedOrFailed(
  client: ViewerClient,
  broker: string,
  timeoutMs: number,
): Promise<void> {
  let lastError: Error | undefined;
  const onError = (err: Error): void => {
    lastError = err;
  };
  let onState: (state: ConnectionState) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    onState = (state) => {
      if (state === "offline") reject(lastError ?? new Error("connection lost"));
    };
  });
  client.on("error", onError).on("state", onState);
  try {
    await Promise.race([client.waitConnected(timeoutMs), failed]);
  } catch (err) {
    const why = lastError?.message ?? (err as Error).message;
    // MQTT.js 5.16 gives the CONNACK code as the error's `code` (ErrorWithReasonCode).
    const code = (lastError as { code?: unknown } | undefined)?.code;
    if (typeof code === "number" && LOGIN_REFUSED.has(code)) {
      throw new BrokerRefusedLogin(`the MQTT broker at ${broker} refused the login (${why})`);
    }
    throw new BrokerUnreachable(`cannot reach the MQTT broker at ${broker} (${why})`);
  } finally {
    client.off("error", onError).off("state", onState);
  }
}

/** One line per camera: id, name when it differs, online or not, main stream. */
export function describeKnownDevices(devices: readonly DeviceState[]): string {
  return devices
    .map((d) => {
      const stream = d.streams.find((s) => s.id === "main") ?? d.streams[0];
      const name = d.name && d.name !== d.deviceId ? ` "${d.name}"` : "";
      const size = stream ? `, ${stream.width}x${stream.height} at ${stream.fps} fps` : "";
      return `  ${d.deviceId}${name}: ${d.online ? "online" : "offline"}${size}\n`;
    })
    .join("");
}
