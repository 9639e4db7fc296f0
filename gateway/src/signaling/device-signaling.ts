/**
 * Device-side signaling v1 over MQTT (docs/signaling.md): retained status
 * with an offline will, viewers' messages on rx/+ checked in the spec's order
 * and handed to a SessionHost, replies and trickled candidates on
 * tx/<viewerId>. Sessions are the host's; this class only carries messages,
 * so a broker restart does not touch them (media is peer to peer).
 */
import { EventEmitter } from "node:events";
import type { IClientOptions, MqttClient } from "mqtt";
import { SignalingError } from "../errors.js";
import {
  DEFAULT_PREFIX,
  answerMessage,
  byeMessage,
  candidateMessage,
  deviceRxFilter,
  encodeMessage,
  errorMessage,
  isErrorCode,
  isValidId,
  isValidPrefix,
  offlineStatus,
  onlineStatus,
  parseDeviceInbound,
  parseTopic,
  statusTopic,
  txTopic,
  type DeviceInbound,
  type ErrorCode,
  type OfferMessage,
  type StreamInfo,
  type ViewerInbound,
} from "./messages.js";
import {
  applyBackoff,
  connectNoDelay,
  describeConnectError,
  redact,
  tlsClientOptions,
  type BackoffOptions,
  type TlsOptions,
} from "./mqtt-connection.js";
import { KeyedRateLimiter, type RateLimit } from "./rate-limit.js";
import type { ByeReason, IceCandidateInit, SessionHost } from "./session-host.js";
import { SignalingCounters, type SignalingCounterSnapshot } from "./signaling-counters.js";

export interface DeviceStatusInfo {
  name: string;
  version: string;
  streams: StreamInfo[];
}

export interface DeviceSignalingOptions extends TlsOptions {
  /** Broker URL: mqtt://, mqtts://, ws://, wss://. */
  url: string;
  deviceId: string;
  /** Topic prefix, default "camgw". */
  prefix?: string;
  username?: string;
  password?: string;
  /** What the retained online status says. */
  status: DeviceStatusInfo;
  /** Where sessions live (the WebRTC session manager). */
  host: SessionHost;
  /** Offers per viewer; default burst 8, 1 per second. Over it: `busy`. */
  offerRate?: RateLimit;
  /** Error replies per viewer; default burst 20, 10 per second. Over it: dropped and counted. */
  errorReplyRate?: RateLimit;
  /** Reconnect backoff; default 500 ms doubling to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** How long start() waits for the first connection; default 10 000 ms. */
  connectTimeoutMs?: number;
  /** MQTT keepalive in seconds; default 15 (the broker publishes the will after 1.5x). */
  keepaliveSeconds?: number;
  /** Extra MQTT.js options, applied last. */
  mqttOptions?: IClientOptions;
}

export interface DeviceSignalingEvents {
  /** Connected (again) to the broker; status published, rx/+ subscribed. */
  connected: [];
  /** Lost the broker; MQTT.js retries with backoff. Sessions keep running. */
  disconnected: [];
  /** A connection or publish problem, already described for a person. */
  error: [error: SignalingError];
}

/**
 * Messages one viewer may have waiting behind a slow offer; past this a
 * flood is dropped and counted instead of queued (offers are rate-limited
 * before they reach the host, so a queue this long is abuse).
 */
const MAX_QUEUED_PER_VIEWER = 64;

export class DeviceSignaling extends EventEmitter<DeviceSignalingEvents> {
  readonly deviceId: string;
  readonly prefix: string;
  readonly counters = new SignalingCounters();
  readonly #options: DeviceSignalingOptions;
  readonly #host: SessionHost;
  readonly #offers: KeyedRateLimiter;
  readonly #errorReplies: KeyedRateLimiter;
  #status: DeviceStatusInfo;
  #client: MqttClient | undefined;
  #connected = false;
  #closing: Promise<void> | undefined;
  readonly #queues = new Map<string, { tail: Promise<void>; pending: number }>();
  readonly #onHostCandidate = (
    viewerId: string,
    session: string,
    candidate: IceCandidateInit | null,
  ): void => {
    this.counters.candidatesSent += 1;
    this.#reply(viewerId, candidateMessage(session, candidate));
  };
  readonly #onHostEnded = (viewerId: string, session: string, reason: ByeReason): void => {
    this.counters.byesSent += 1;
    this.#reply(viewerId, byeMessage(session, reason));
  };

  constructor(options: DeviceSignalingOptions) {
    super();
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    if (!isValidPrefix(prefix)) {
      throw new SignalingError("config", `invalid MQTT topic prefix ${JSON.stringify(prefix)}`, {
        prefix,
      });
    }
    if (!isValidId(options.deviceId)) {
      throw new SignalingError(
        "config",
        `invalid device id ${JSON.stringify(options.deviceId)}: use 1-64 chars of [A-Za-z0-9_-]`,
      );
    }
    this.prefix = prefix;
    this.deviceId = options.deviceId;
    this.#options = options;
    this.#host = options.host;
    this.#status = options.status;
    this.#offers = new KeyedRateLimiter(options.offerRate ?? { burst: 8, perSecond: 1 });
    this.#errorReplies = new KeyedRateLimiter(
      options.errorReplyRate ?? { burst: 20, perSecond: 10 },
    );
  }

  /** True while connected to the broker (for /healthz). */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Connects, publishes the online status and subscribes rx/+. Resolves on
   * the first connection; rejects (and closes) on refused credentials, a TLS
   * failure, or no connection within connectTimeoutMs.
   */
  async start(): Promise<void> {
    if (this.#client)
      throw new SignalingError("state", "DeviceSignaling.start() was already called");
    const options = this.#options;
    const will = {
      topic: this.#statusTopic(),
      payload: encodeMessage(offlineStatus()),
      qos: 1 as const,
      retain: true,
    };
    const client = connectNoDelay(options.url, {
      clientId: `camgw-device-${this.deviceId}`,
      clean: true,
      keepalive: options.keepaliveSeconds ?? 15,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // We subscribe on every 'connect' ourselves, after publishing status.
      resubscribe: false,
      will,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...tlsClientOptions(options),
      ...options.mqttOptions,
    });
    this.#client = client;
    applyBackoff(client, options.backoff);
    this.#host.on("candidate", this.#onHostCandidate);
    this.#host.on("ended", this.#onHostEnded);
    client.on("connect", () => {
      this.#onConnect(client);
    });
    client.on("close", () => {
      if (!this.#connected) return;
      this.#connected = false;
      this.emit("disconnected");
    });
    client.on("message", (topic, payload) => {
      this.#onMessage(topic, payload);
    });
    await this.#firstConnection(client, options.connectTimeoutMs ?? 10_000);
  }

  /** Re-publishes the retained status, e.g. when the streams changed. */
  updateStatus(status: Partial<DeviceStatusInfo>): void {
    this.#status = { ...this.#status, ...status };
    if (this.#connected) this.#publishStatus();
  }

  /** A copy of the counters, for /metrics. */
  metrics(): SignalingCounterSnapshot {
    return this.counters.snapshot();
  }

  /**
   * Publishes the offline status, then disconnects; safe to call twice. The
   * app closes the session host first, so its `ended` events (bye shutdown)
   * are published before this, in order.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#host.off("candidate", this.#onHostCandidate);
    this.#host.off("ended", this.#onHostEnded);
    const client = this.#client;
    if (!client) return;
    if (client.connected) {
      const payload = encodeMessage(offlineStatus());
      const published = client.publishAsync(this.#statusTopic(), payload, { qos: 1, retain: true });
      // Bounded: a broker that stops answering must not hold shutdown.
      await Promise.race([published.catch(() => undefined), delay(2000)]);
    }
    await client.endAsync(!client.connected);
    this.#connected = false;
  }

  #firstConnection(client: MqttClient, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (error: SignalingError): void => {
        cleanup();
        void this.close();
        reject(error);
      };
      const onConnected = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: Error): void => {
        const described = describeConnectError(err, this.#options.url);
        if (described.fatal) fail(described.error);
      };
      const timer = setTimeout(() => {
        fail(
          new SignalingError(
            "unreachable",
            `no connection to MQTT broker ${redact(this.#options.url)} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off("connected", onConnected);
        client.off("error", onError);
      };
      this.on("connected", onConnected);
      client.on("error", onError);
      // Later errors: described and emitted; MQTT.js keeps retrying.
      client.on("error", (err) => {
        this.#emitError(describeConnectError(err, this.#options.url).error);
      });
    });
  }

  #onConnect(client: MqttClient): void {
    this.counters.connects += 1;
    this.#publishStatus();
    client.subscribe(deviceRxFilter(this.prefix, this.deviceId), { qos: 1 }, (err, granted) => {
      const refused = granted?.some((g) => g.qos === 128) === true;
      if (err || refused) {
        this.#emitError(
          new SignalingError(
            "unauthorized",
            `MQTT broker refused the subscription to ${deviceRxFilter(this.prefix, this.deviceId)}`,
            {
              reason: err?.message,
            },
          ),
        );
        return;
      }
      this.#connected = true;
      this.emit("connected");
    });
  }

  #publishStatus(): void {
    const status = onlineStatus({ ...this.#status });
    this.#client?.publish(this.#statusTopic(), encodeMessage(status), { qos: 1, retain: true });
  }

  #statusTopic(): string {
    return statusTopic(this.prefix, this.deviceId);
  }

  #onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(this.prefix, topic);
    if (parsed?.kind !== "rx" || parsed.deviceId !== this.deviceId) return;
    const viewerId = parsed.viewerId;
    this.counters.received += 1;
    // One viewer's messages are handled strictly in order, an offer to its
    // end: MQTT.js hands over an offer and the candidates trickled after it
    // in one tick, and a candidate must not be judged (not-found) before its
    // offer's reply (answer, or busy) has gone out. Other viewers never wait.
    const queue = this.#queues.get(viewerId) ?? { tail: Promise.resolve(), pending: 0 };
    if (queue.pending >= MAX_QUEUED_PER_VIEWER) {
      this.counters.overflowed += 1;
      return;
    }
    queue.pending += 1;
    this.#queues.set(viewerId, queue);
    queue.tail = queue.tail
      .then(() => this.#handle(viewerId, payload))
      .catch((err: unknown) => {
        // Handlers catch what they expect; this keeps the queue alive for the rest.
        this.counters.hostErrors += 1;
        this.#emitError(
          new SignalingError("internal", `handling a message failed: ${errorText(err)}`, {
            viewerId,
          }),
        );
      })
      .finally(() => {
        queue.pending -= 1;
        if (queue.pending === 0 && this.#queues.get(viewerId) === queue)
          this.#queues.delete(viewerId);
      });
  }

  #handle(viewerId: string, payload: Buffer): Promise<void> | undefined {
    const result = parseDeviceInbound(payload);
    switch (result.kind) {
      case "ignore":
        this.counters.ignored += 1;
        return;
      case "reply-error":
        this.counters.countInvalid(
          result.step === 1 ? "payload" : result.step === 2 ? "header" : "fields",
        );
        this.#replyError(viewerId, result.code, result.message, result.session);
        return;
      case "message":
        return this.#dispatch(viewerId, result.msg);
    }
  }

  #dispatch(viewerId: string, msg: DeviceInbound): Promise<void> | undefined {
    switch (msg.type) {
      case "offer":
        if (!this.#offers.take(viewerId)) {
          this.counters.rateLimited += 1;
          this.#replyError(
            viewerId,
            "busy",
            "too many offers from this viewer; retry in a second",
            msg.session,
          );
          return;
        }
        return this.#offer(viewerId, msg);
      case "candidate":
        try {
          if (!this.#host.addCandidate(viewerId, msg.session, msg.candidate)) {
            this.#replyError(
              viewerId,
              "not-found",
              `no session "${msg.session}" for this viewer`,
              msg.session,
            );
          }
        } catch (err) {
          this.#replyHostError(viewerId, err, msg.session);
        }
        return;
      case "bye":
        // Spec step 5: a bye for a session this viewer does not have is ignored.
        try {
          this.#host.bye(viewerId, msg.session);
        } catch (err) {
          this.counters.hostErrors += 1;
          this.#emitError(
            new SignalingError("internal", `session host failed on bye: ${errorText(err)}`, {
              viewerId,
            }),
          );
        }
        return;
    }
  }

  async #offer(viewerId: string, msg: OfferMessage): Promise<void> {
    let sdp: string;
    try {
      sdp = await this.#host.offer({
        viewerId,
        session: msg.session,
        sdp: msg.sdp,
        stream: msg.stream,
      });
    } catch (err) {
      this.#replyHostError(viewerId, err, msg.session);
      return;
    }
    this.counters.countReply("answer");
    this.#reply(viewerId, answerMessage(msg.session, sdp));
  }

  /**
   * A host error with a spec code (bad-request, unsupported, busy...) goes to
   * the viewer as is; anything else is a bug here, so the viewer gets a plain
   * `internal` and the details go to the log.
   */
  #replyHostError(viewerId: string, err: unknown, session: string): void {
    const code = hostErrorCode(err);
    if (code === "internal") {
      this.counters.hostErrors += 1;
      this.#emitError(
        new SignalingError("internal", `session host failed: ${errorText(err)}`, {
          viewerId,
          session,
        }),
      );
      this.#replyError(viewerId, "internal", "internal error", session);
      return;
    }
    this.#replyError(viewerId, code, errorText(err), session);
  }

  /** Node's EventEmitter throws an unheard "error"; signaling trouble must never crash the device. */
  #emitError(error: SignalingError): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  #replyError(
    viewerId: string,
    code: ErrorCode,
    message: string,
    session: string | undefined,
  ): void {
    // An error reply costs the broker as much as the message that caused it:
    // past the per-viewer budget, drop and count instead of amplifying a flood.
    if (!this.#errorReplies.take(viewerId)) {
      this.counters.dropped += 1;
      return;
    }
    this.counters.countReply(code);
    this.#reply(viewerId, errorMessage(code, message, session));
  }

  #reply(viewerId: string, message: ViewerInbound): void {
    const client = this.#client;
    if (!client || this.#closing) return;
    client.publish(
      txTopic(this.prefix, this.deviceId, viewerId),
      encodeMessage(message),
      { qos: 1 },
      (err) => {
        if (err) {
          this.counters.dropped += 1;
          this.#emitError(
            new SignalingError(
              "publish",
              `could not publish to viewer ${viewerId}: ${err.message}`,
              { viewerId },
            ),
          );
        }
      },
    );
  }
}

/** The spec error code a host error carries (SessionHost contract), else "internal". */
function hostErrorCode(err: unknown): ErrorCode {
  const code = (err as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? code : "internal";
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
