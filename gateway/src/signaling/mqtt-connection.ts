/**
 * MQTT.js connections for Node with the settings signaling latency needs:
 * Nagle off on the socket, the reconnect backoff, TLS options from config,
 * and connection errors a person can act on.
 */
import { readFileSync } from "node:fs";
import { Socket } from "node:net";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { BrokerError, ConfigError } from "../errors.js";

export interface BackoffOptions {
  /** First retry delay, default 500 ms. */
  minMs?: number;
  /** Ceiling, default 30 000 ms. */
  maxMs?: number;
}

export interface TlsOptions {
  /** PEM file of the CA that signed the broker's certificate (mqtts://, wss://). */
  caFile?: string;
  /** PEM text of that CA, instead of caFile. */
  ca?: string | Buffer;
  /** Default true; false accepts any certificate (testing only). */
  rejectUnauthorized?: boolean;
}

/** MQTT.js options for the TLS settings of camgw's config. */
export function tlsClientOptions(tls: TlsOptions): IClientOptions {
  const options: IClientOptions = {};
  if (tls.caFile !== undefined) {
    try {
      options.ca = readFileSync(tls.caFile);
    } catch (err) {
      throw new ConfigError(
        `cannot read the MQTT CA file ${tls.caFile} (--broker-ca): ${String(err)}`,
        { caFile: tls.caFile },
        { cause: err },
      );
    }
  } else if (tls.ca !== undefined) {
    options.ca = tls.ca;
  }
  if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized;
  return options;
}

/**
 * Turns Nagle off on an MQTT.js transport stream. mqtt:// and mqtts:// give a
 * net.Socket / tls.TLSSocket (TLSSocket forwards setNoDelay to its TCP
 * handle); called before the connection is up, libuv applies TCP_NODELAY as
 * soon as the socket exists. ws:// and wss:// streams wrap a `ws` WebSocket,
 * which calls setNoDelay() on its socket itself (ws/lib/websocket.js).
 */
export function disableNagle(stream: unknown): void {
  if (stream instanceof Socket) stream.setNoDelay(true);
}

/**
 * mqtt.connect with Nagle off on every connection, the first and each
 * reconnect: MQTT.js builds a new stream per attempt through
 * `client.streamBuilder`, so the wrapper is installed before the first
 * connect (manualConnect) and covers them all.
 */
export function connectNoDelay(url: string, options: IClientOptions): MqttClient {
  const client = mqtt.connect(url, { ...options, manualConnect: true });
  // `streamBuilder` is a plain (TS-private) field of MqttClient 5.x that
  // connect() calls for every attempt; checked so a future MQTT.js that
  // renames it fails loudly instead of silently leaving Nagle on.
  const internal = client as unknown as { streamBuilder?: unknown };
  const build = internal.streamBuilder;
  if (typeof build !== "function") {
    client.end(true);
    throw new TypeError("this MQTT.js has no client.streamBuilder; cannot turn Nagle off");
  }
  internal.streamBuilder = (c: MqttClient): unknown => {
    const stream: unknown = build.call(client, c);
    disableNagle(stream);
    return stream;
  };
  if (options.manualConnect !== true) client.connect();
  return client;
}

/**
 * The delay before reconnection attempt `attempt` (1 for the first after a
 * failure or a lost connection): exponential from minMs doubling to maxMs,
 * with equal jitter (half the delay fixed, half random) so devices that lost
 * the same broker do not all return in the same millisecond.
 */
export function backoffDelay(
  attempt: number,
  backoff: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const minMs = backoff.minMs ?? 500;
  const maxMs = backoff.maxMs ?? 30_000;
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

/** CONNACK return codes that retrying will not fix (MQTT 3.1.1 §3.2.2.3, MQTT 5 reason codes). */
const REFUSALS: Record<number, string> = {
  1: "unacceptable protocol version",
  2: "client identifier rejected",
  4: "bad username or password",
  5: "not authorized",
  134: "bad username or password",
  135: "not authorized",
};

/**
 * A connection error as a BrokerError a person can act on: `refused` for a
 * CONNACK refusal (credentials, authorization), `tls` for certificate
 * trouble, `unreachable` for the rest; `fatal` says whether retrying the same
 * thing can help (it can once someone fixes the broker or the config).
 */
export function describeConnectError(
  err: Error,
  url: string,
): { error: BrokerError; fatal: boolean } {
  const code = (err as { code?: unknown }).code;
  const where = redact(url);
  if (typeof code === "number" && code in REFUSALS) {
    const why = REFUSALS[code] ?? "refused";
    return {
      error: new BrokerError(
        "refused",
        `MQTT broker ${where} refused the connection: ${why} (CONNACK ${code})`,
        {
          url: where,
          connack: code,
        },
      ),
      fatal: true,
    };
  }
  if (typeof code === "string" && /CERT|SSL|TLS|SELF_SIGNED|ERR_TLS/.test(code)) {
    return {
      error: new BrokerError(
        "tls",
        `TLS to MQTT broker ${where} failed: ${err.message} (${code})`,
        { url: where },
        { cause: err },
      ),
      fatal: true,
    };
  }
  return {
    error: new BrokerError(
      "unreachable",
      `MQTT broker ${where}: ${err.message}`,
      { url: where },
      { cause: err },
    ),
    fatal: false,
  };
}

/** The URL without a password, for logs and errors. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
