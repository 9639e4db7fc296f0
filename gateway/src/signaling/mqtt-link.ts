/**
 * The device's link to an MQTT broker (docs/signaling.md, "Connection
 * behaviour"): connect with the offline status as will, publish the retained
 * online status, subscribe rx/+, deliver each viewer's messages to the
 * dispatcher with a ViewerTransport that publishes to tx/<viewerId>, and
 * reconnect, all of it here. MQTT.js's own reconnect is off
 * (reconnectPeriod 0): this class owns the one retry timer, so it knows each
 * attempt, and close() never waits for one. Sessions are the host's; a broker
 * restart does not touch them (media is peer to peer).
 */
import { EventEmitter } from "node:events";
import type { IClientOptions, MqttClient } from "mqtt";
import { BrokerError, ConfigError } from "../errors.js";
import {
  DEFAULT_PREFIX,
  deviceRxFilter,
  encodeMessage,
  isValidId,
  isValidPrefix,
  offlineStatus,
  onlineStatus,
  parseTopic,
  statusTopic,
  txTopic,
  type StreamInfo,
  type ViewerInbound,
} from "./messages.js";
import {
  connectNoDelay,
  describeConnectError,
  redact,
  tlsClientOptions,
  type BackoffOptions,
  type TlsOptions,
} from "./mqtt-connection.js";
import { RetrySchedule, type LinkRetry } from "./retry-schedule.js";
import { StatusGuard } from "./status-guard.js";
import type { InboundSink, ViewerTransport } from "./viewer-transport.js";

export type { LinkRetry } from "./retry-schedule.js";

export interface DeviceStatusInfo {
  name: string;
  version: string;
  streams: StreamInfo[];
}

export interface MqttLinkOptions extends TlsOptions {
  /** Broker URL: mqtt://, mqtts://, ws://, wss://. */
  url: string;
  deviceId: string;
  /** Topic prefix, default "camgw". */
  prefix?: string;
  username?: string;
  password?: string;
  /** What the retained online status says. */
  status: DeviceStatusInfo;
  /** Where viewers' messages go: the signaling dispatcher. */
  sink: InboundSink;
  /** Reconnect backoff; default 500 ms doubling to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** How long one attempt may wait for the broker's CONNACK; default 10 000 ms. */
  connectTimeoutMs?: number;
  /** MQTT keepalive in seconds; default 15 (the broker publishes the will after 1.5x). */
  keepaliveSeconds?: number;
  /** Extra MQTT.js options, applied last. */
  mqttOptions?: IClientOptions;
}

/**
 * - `idle`: made, connect() not called yet;
 * - `connecting`: an attempt is under way;
 * - `connected`: status published and rx/+ subscribed;
 * - `waiting`: the last attempt failed (or the connection was lost), the next is timed;
 * - `closed`: close() was called.
 */
export type LinkState = "idle" | "connecting" | "connected" | "waiting" | "closed";

export interface MqttLinkEvents {
  /** Connected (again): status published, rx/+ subscribed. */
  connected: [];
  /** A connection that was up is lost; a `retrying` follows. Sessions keep running. */
  disconnected: [];
  /** An attempt failed or the connection was lost; the next attempt is timed. */
  retrying: [retry: LinkRetry];
  /** A problem while connected: the retained status could not be published. */
  error: [error: BrokerError];
  /** Another client changed or wiped the device's retained status; the device restores it. */
  statusTampered: [];
  /** close() was called. */
  closed: [];
}

/** Counters of the link, for /metrics. */
export interface MqttLinkStats {
  /** Successful connections, the first included. */
  connects: number;
  /** Attempts that failed, and connections lost. */
  connectFailures: number;
  /** Retained messages on rx/ (replayed by the broker on subscribe), dropped unread. */
  retainedIgnored: number;
  /** Times another client's status was replaced by the device's own. */
  statusRestored: number;
}

/** How long close() lets the offline status wait for the broker's PUBACK. */
const CLOSE_PUBLISH_MS = 2000;

export class MqttLink extends EventEmitter<MqttLinkEvents> {
  readonly deviceId: string;
  readonly prefix: string;
  readonly url: string;
  readonly stats: MqttLinkStats = {
    connects: 0,
    connectFailures: 0,
    retainedIgnored: 0,
    statusRestored: 0,
  };
  readonly #clientOptions: IClientOptions;
  readonly #sink: InboundSink;
  readonly #retries: RetrySchedule;
  #status: DeviceStatusInfo;
  #state: LinkState = "idle";
  #client: MqttClient | undefined;
  #closing: Promise<void> | undefined;
  readonly #statusGuard = new StatusGuard({
    restore: () => {
      this.stats.statusRestored += 1;
      if (this.#state !== "closed" && this.#client?.connected) this.#publishStatus(this.#client);
    },
  });

  /** Checks the settings (throws ConfigError) and reads the CA file; connects only on connect(). */
  constructor(options: MqttLinkOptions) {
    super();
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    if (!isValidPrefix(prefix)) {
      throw new ConfigError(
        `invalid MQTT topic prefix ${JSON.stringify(prefix)}: use levels of [A-Za-z0-9_-] joined by "/"`,
        { prefix },
      );
    }
    if (!isValidId(options.deviceId)) {
      throw new ConfigError(
        `invalid device id ${JSON.stringify(options.deviceId)}: use 1-64 chars of [A-Za-z0-9_-]`,
        { deviceId: options.deviceId },
      );
    }
    this.prefix = prefix;
    this.deviceId = options.deviceId;
    this.url = options.url;
    this.#sink = options.sink;
    this.#retries = new RetrySchedule(options.backoff);
    this.#status = options.status;
    this.#clientOptions = {
      clientId: `camgw-device-${this.deviceId}`,
      clean: true,
      keepalive: options.keepaliveSeconds ?? 15,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // The retry timer is this class's (see the file comment).
      reconnectPeriod: 0,
      // We subscribe on every 'connect' ourselves, after publishing status.
      resubscribe: false,
      will: {
        topic: statusTopic(prefix, this.deviceId),
        payload: Buffer.from(encodeMessage(offlineStatus())),
        qos: 1,
        retain: true,
      },
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...tlsClientOptions(options),
      ...options.mqttOptions,
    };
  }

  get state(): LinkState {
    return this.#state;
  }

  /** True while connected to the broker (for /healthz). */
  get connected(): boolean {
    return this.#state === "connected";
  }

  /** What keeps the link down, while it is down after a failure; undefined otherwise. */
  get problem(): BrokerError | undefined {
    return this.#state === "connected" ? undefined : this.#retries.problem;
  }

  /**
   * Starts connecting, and reconnecting for as long as the link is open; the
   * outcome comes as events (and through waitConnected()). Safe to call twice.
   */
  connect(): void {
    if (this.#state !== "idle") return;
    const client = connectNoDelay(this.url, { ...this.#clientOptions, manualConnect: true });
    this.#client = client;
    client.on("connect", () => {
      this.#onConnect(client);
    });
    client.on("error", (err) => {
      const described = describeConnectError(err, this.url);
      this.#retries.noteError(described.error, described.fatal);
    });
    client.on("close", () => {
      this.#onClose();
    });
    client.on("message", (topic, payload, packet) => {
      this.#onMessage(topic, payload, packet.retain);
    });
    this.#state = "connecting";
    client.connect();
  }

  /**
   * Resolves once connected (at once if it is). Rejects with the BrokerError
   * of an attempt the broker refused (refused, tls), with `unreachable` when
   * no connection came within timeoutMs, or with `closed`. The link keeps
   * trying either way until close().
   */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.#state === "connected") return Promise.resolve();
    if (this.#state === "closed")
      return Promise.reject(new BrokerError("closed", "the MQTT link is closed"));
    return new Promise<void>((resolve, reject) => {
      const done = (error?: BrokerError): void => {
        clearTimeout(timer);
        this.off("connected", onConnected).off("retrying", onRetrying).off("closed", onClosed);
        if (error) reject(error);
        else resolve();
      };
      const onConnected = (): void => {
        done();
      };
      const onRetrying = (retry: LinkRetry): void => {
        if (retry.fatal) done(retry.error);
      };
      const onClosed = (): void => {
        done(new BrokerError("closed", "the MQTT link was closed before it connected"));
      };
      const timer = setTimeout(() => {
        done(
          new BrokerError(
            "unreachable",
            `no connection to MQTT broker ${redact(this.url)} within ${timeoutMs} ms`,
            { url: redact(this.url) },
            { cause: this.#retries.problem },
          ),
        );
      }, timeoutMs);
      this.on("connected", onConnected).on("retrying", onRetrying).on("closed", onClosed);
    });
  }

  /**
   * Drops the connection and connects again (or tries again at once when
   * waiting), e.g. because this host's address changed: a TCP connection
   * from an address that is gone is dead, but nothing says so until the
   * keepalive runs out (~22 s), and a broker with a clean session drops
   * what viewers send meanwhile. `why` is what the log says.
   */
  reconnect(why: string): void {
    const client = this.#client;
    if (!client) return;
    if (this.#state === "waiting") {
      this.#retries.cancel();
      this.#state = "connecting";
      client.connect();
      return;
    }
    if (this.#state !== "connected" && this.#state !== "connecting") return;
    this.#retries.noteError(
      new BrokerError("unreachable", `reconnecting to MQTT broker ${redact(this.url)}: ${why}`, {
        url: redact(this.url),
      }),
      false,
    );
    client.stream.destroy();
  }

  /** Re-publishes the retained status, e.g. when the streams changed. */
  updateStatus(status: Partial<DeviceStatusInfo>): void {
    this.#status = { ...this.#status, ...status };
    if (this.#state === "connected" && this.#client) this.#publishStatus(this.#client);
  }

  /**
   * Publishes a message of a feature that rides on the device's connection
   * (Home Assistant discovery, homeassistant/home-assistant-link.ts), in
   * order with its signaling. Rejects with BrokerError `closed` while not
   * connected (the feature publishes again on `connected`), `publish` when
   * the client could not send it.
   */
  async publish(
    topic: string,
    payload: string | Buffer,
    options: { retain: boolean; qos: 0 | 1 },
  ): Promise<void> {
    const client = this.#client;
    if (!client || this.#state !== "connected") {
      throw new BrokerError(
        "closed",
        `not connected to the MQTT broker; nothing sent to ${topic}`,
        {
          topic,
        },
      );
    }
    try {
      await client.publishAsync(topic, payload, options);
    } catch (err) {
      throw new BrokerError(
        "publish",
        `could not publish to ${topic}: ${(err as Error).message}`,
        { topic },
        { cause: err },
      );
    }
  }

  /**
   * Publishes the offline status (when connected, waiting at most 2 s for
   * the broker), then disconnects; safe to call twice. A pending retry is
   * cancelled, never waited for. The app closes the session host and the
   * dispatcher first, so their byes are published before the status, in order.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const wasConnected = this.#state === "connected";
    this.#state = "closed";
    this.#statusGuard.stop();
    this.#retries.cancel();
    this.emit("closed");
    const client = this.#client;
    if (!client) return;
    let flushed = false;
    if (wasConnected && client.connected) {
      const published = client
        .publishAsync(this.#statusTopic(), encodeMessage(offlineStatus()), { qos: 1, retain: true })
        .then(
          () => true,
          () => false,
        );
      flushed = await Promise.race([published, delay(CLOSE_PUBLISH_MS).then(() => false)]);
    }
    // A graceful DISCONNECT only when the broker is answering: end(false)
    // waits for every unacknowledged publish, which a silent broker never acks.
    await client.endAsync(!flushed);
  }

  #onConnect(client: MqttClient): void {
    if (this.#state === "closed") return;
    this.#publishStatus(client);
    // Watching its own status is a defence, not a need: a broker whose ACL
    // does not let the device read it still carries signaling.
    client.subscribe(this.#statusTopic(), { qos: 1 }, () => undefined);
    const filter = deviceRxFilter(this.prefix, this.deviceId);
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      if (this.#state === "closed" || client !== this.#client) return;
      const refused = granted?.some((g) => g.qos === 128) === true;
      if (err || refused) {
        // Without rx/+ no viewer reaches the device: a failed attempt like
        // any other, retried with backoff (an ACL may be fixed meanwhile).
        const why = err ? `: ${err.message}` : " (SUBACK 0x80)";
        this.#retries.noteError(
          new BrokerError(
            "subscription",
            `MQTT broker ${redact(this.url)} refused the subscription to ${filter}${why}`,
            { url: redact(this.url), filter },
            err ? { cause: err } : undefined,
          ),
          true,
        );
        client.end(true);
        return;
      }
      this.#retries.succeeded();
      this.#state = "connected";
      this.stats.connects += 1;
      this.emit("connected");
    });
  }

  #onClose(): void {
    this.#statusGuard.stop();
    // MQTT.js can close a stream twice (a failed CONNACK, then the socket).
    if (this.#state === "closed" || this.#retries.pending) return;
    const wasConnected = this.#state === "connected";
    const where = redact(this.url);
    const silent = new BrokerError(
      "unreachable",
      wasConnected
        ? `lost the connection to MQTT broker ${where}`
        : `MQTT broker ${where} closed the connection before it was up`,
      { url: where },
    );
    this.stats.connectFailures += 1;
    this.#state = "waiting";
    const retry = this.#retries.fail(silent, () => {
      if (this.#state !== "waiting" || !this.#client) return;
      this.#state = "connecting";
      this.#client.connect();
    });
    if (wasConnected) this.emit("disconnected");
    this.emit("retrying", retry);
  }

  #onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (this.#state === "closed") return;
    if (topic === this.#statusTopic()) {
      if (this.#statusGuard.observed(payload.toString("utf8"))) this.emit("statusTampered");
      return;
    }
    const parsed = parseTopic(this.prefix, topic);
    if (parsed?.kind !== "rx" || parsed.deviceId !== this.deviceId) return;
    // A retained message is one the broker replays on subscribe (MQTT 3.1.1
    // 3.3.1.3): an old offer or bye, possibly left by someone else. Live
    // messages arrive with the flag clear, however they were published.
    if (retained) {
      this.stats.retainedIgnored += 1;
      return;
    }
    this.#sink.receive(this.#viewer(parsed.viewerId), payload);
  }

  /**
   * The way back to one viewer: its tx topic. The viewer's identity is its
   * topic level, and its account the same name: the device cannot see the
   * viewer's MQTT username, but a broker that enforces the ACL (the embedded
   * one, or Mosquitto with `camgw broker-config`) lets only user V publish
   * to rx/V. Where a broker does not, the dispatcher still admits only
   * known accounts.
   */
  #viewer(viewerId: string): ViewerTransport {
    const topic = txTopic(this.prefix, this.deviceId, viewerId);
    return {
      identity: { viewerId, account: viewerId },
      via: "mqtt",
      send: (message: ViewerInbound) => this.#publish(topic, message, viewerId),
    };
  }

  async #publish(topic: string, message: ViewerInbound, viewerId: string): Promise<void> {
    const client = this.#client;
    if (!client || this.#state === "closed") {
      throw new BrokerError("closed", `the MQTT link is closed; nothing sent to ${viewerId}`, {
        viewerId,
      });
    }
    try {
      await client.publishAsync(topic, encodeMessage(message), { qos: 1 });
    } catch (err) {
      throw new BrokerError(
        "publish",
        `could not publish to viewer ${viewerId}: ${(err as Error).message}`,
        { viewerId },
        { cause: err },
      );
    }
  }

  #publishStatus(client: MqttClient): void {
    const payload = encodeMessage(onlineStatus({ ...this.#status }));
    this.#statusGuard.published(payload);
    client.publish(this.#statusTopic(), payload, { qos: 1, retain: true }, (err) => {
      if (err && this.#state !== "closed") {
        this.#emitError(
          new BrokerError(
            "publish",
            `could not publish the status: ${err.message}`,
            { url: redact(this.url) },
            { cause: err },
          ),
        );
      }
    });
  }

  #statusTopic(): string {
    return statusTopic(this.prefix, this.deviceId);
  }

  /** Node's EventEmitter throws an unheard "error"; broker trouble must never crash the device. */
  #emitError(error: BrokerError): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
