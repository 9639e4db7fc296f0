/**
 * Viewer-side signaling v1 over MQTT.js: the live device list from retained
 * status messages, and calls (offer -> answer, trickled candidates, bye).
 * Isomorphic: `camgw probe` runs it in Node and the web viewer bundles it
 * with esbuild for the browser (where "mqtt" resolves to MQTT.js's browser
 * build and only ws:/wss: URLs work).
 */
// Default import: MQTT.js's browser ESM build has only a default export.
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { BrokerError } from "../errors.js";
import {
  DEFAULT_PREFIX,
  DEFAULT_STREAM,
  encodeMessage,
  isValidId,
  isValidPrefix,
  parseStatus,
  parseTopic,
  parseViewerInbound,
  randomId,
  rxTopic,
  snapshotRequest,
  statusFilter,
  txTopic,
  type ErrorMessage,
  type IceServerEntry,
  type IceServersMessage,
  type SnapshotMessage,
  type StreamInfo,
} from "./messages.js";
import { TypedEmitter } from "./typed-emitter.js";
import { Call, CallError } from "./viewer-call.js";

export {
  Call,
  CallError,
  type CallEndCause,
  type CallErrorCode,
  type CallEvents,
} from "./viewer-call.js";

export type ConnectFn = (url: string, options: IClientOptions) => MqttClient;

export interface ViewerClientOptions {
  /** Broker URL: mqtt://, mqtts://, ws://, wss:// (browsers: ws/wss only). */
  url: string;
  username?: string;
  password?: string;
  /** Topic prefix, default "camgw". */
  prefix?: string;
  /**
   * Default: the username when there is one (a broker that enforces its ACL
   * lets user V use only rx/V and tx/V, docs/signaling.md), else a random
   * id per instance (spec: one per page load).
   */
  viewerId?: string;
  /** How long a call waits for the answer, default 10 000 ms. */
  answerTimeoutMs?: number;
  /** Extra MQTT.js options (ca, rejectUnauthorized, reconnectPeriod, ...). */
  mqttOptions?: IClientOptions;
  /** The MQTT.js connect function; injectable for tests and custom transports. */
  connect?: ConnectFn;
}

export interface DeviceState {
  deviceId: string;
  online: boolean;
  name?: string;
  version?: string;
  streams: StreamInfo[];
  /** The device's own timestamp of its status, ms since the epoch. */
  ts?: number;
}

export type ConnectionState = "connecting" | "connected" | "offline" | "closed";

export interface ViewerClientEvents extends Record<string, unknown[]> {
  state: [state: ConnectionState];
  /** A device appeared or its status changed (online/offline, streams). */
  device: [device: DeviceState];
  /** A device's retained status was cleared. */
  removed: [deviceId: string];
  /** An error reply that names no known call (e.g. a bad-request without session). */
  "error-reply": [deviceId: string, error: ErrorMessage];
  /** A broker or connection error (bad credentials, TLS, refused). */
  error: [error: Error];
  /** A message on our topics that did not pass the checks (debugging aid). */
  invalid: [topic: string, why: string];
}

export class ViewerClient extends TypedEmitter<ViewerClientEvents> {
  readonly viewerId: string;
  readonly prefix: string;
  readonly #client: MqttClient;
  readonly #answerTimeoutMs: number;
  readonly #devices = new Map<string, DeviceState>();
  readonly #calls = new Map<string, Call>();
  readonly #txSubscriptions = new Map<string, Promise<void>>();
  /** Each device's last ICE-server list for this viewer, and until when to use it (performance.now()). */
  readonly #iceServers = new Map<string, { servers: IceServerEntry[]; useUntil: number }>();
  /** Snapshot requests waiting for their reply, by `<deviceId>/<request id>`. */
  readonly #snapshots = new Map<
    string,
    { resolve: (m: SnapshotMessage) => void; reject: (e: CallError) => void }
  >();
  #state: ConnectionState = "connecting";
  #closing: Promise<void> | undefined;

  constructor(options: ViewerClientOptions) {
    super();
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const viewerId = options.viewerId ?? (options.username || randomId());
    if (!isValidPrefix(prefix))
      throw new RangeError(`invalid topic prefix ${JSON.stringify(prefix)}`);
    if (!isValidId(viewerId)) throw new RangeError(`invalid viewerId ${JSON.stringify(viewerId)}`);
    this.prefix = prefix;
    this.viewerId = viewerId;
    this.#answerTimeoutMs = options.answerTimeoutMs ?? 10_000;
    const connect = options.connect ?? mqtt.connect;
    this.#client = connect(options.url, {
      // `<viewerId>.<random>`: bound to the username where the broker checks
      // (auth/broker-acl.ts), and one per tab, so two tabs of one viewer do
      // not push each other off (one client id, one connection: MQTT 3.1.1 3.1.4).
      clientId: `${this.viewerId}.${randomId(8)}`,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...options.mqttOptions,
    });
    this.#client.on("connect", () => {
      this.#setState("connected");
    });
    this.#client.on("offline", () => {
      this.#setState("offline");
      for (const call of this.#calls.values()) call.offerMayBeLost();
    });
    this.#client.on("reconnect", () => {
      this.#setState("connecting");
    });
    this.#client.on("error", (err) => this.emit("error", err));
    this.#client.on("message", (topic, payload) => {
      this.#onMessage(topic, payload);
    });
    // MQTT.js re-subscribes after a reconnect (resubscribe: true), and the
    // broker then re-sends every retained status.
    this.statusSubscribed = new Promise((resolve) => {
      // A failed subscription settles it too: nothing more is coming.
      this.#client.subscribe(statusFilter(this.prefix), { qos: 1 }, () => resolve());
    });
  }

  /**
   * Resolves once the broker acknowledged the first subscription to the
   * devices' statuses (SUBACK); the retained ones follow right behind it
   * (MQTT 3.1.1 section 3.8.4). Also resolves when it fails or the client closes.
   */
  readonly statusSubscribed: Promise<void>;

  get state(): ConnectionState {
    return this.#state;
  }

  /** The devices seen so far, by deviceId. */
  get devices(): ReadonlyMap<string, DeviceState> {
    return this.#devices;
  }

  /**
   * Resolves once connected to the broker. Rejects when the broker refuses
   * the login (MQTT.js's error with a numeric CONNACK `code`: wrong
   * credentials, not authorized), with a BrokerError `unreachable` after
   * timeoutMs (an unreachable broker is retried until then: state
   * "offline"/"connecting", "error" events meanwhile), or `closed`.
   */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.#state === "connected") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.off("state", onState).off("error", onError);
        if (err) reject(err);
        else resolve();
      };
      const onState = (state: ConnectionState): void => {
        if (state === "connected") done();
        if (state === "closed") done(new BrokerError("closed", "the viewer client closed"));
      };
      const onError = (err: Error): void => {
        if (typeof (err as { code?: unknown }).code === "number") done(err);
      };
      const timer = setTimeout(() => {
        done(new BrokerError("unreachable", `not connected to the broker within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on("state", onState).on("error", onError);
    });
  }

  /**
   * Starts a call: subscribes tx/<viewerId> of the device, then publishes the
   * offer. Local candidates given to the call before the offer is out follow it.
   */
  call(deviceId: string, offer: { sdp: string; stream?: string; session?: string }): Call {
    if (this.#closing) throw new CallError("closed", "the viewer client is closed", { deviceId });
    const session = offer.session ?? randomId();
    const rx = rxTopic(this.prefix, deviceId, this.viewerId);
    if (!isValidId(session)) throw new RangeError(`invalid session ${JSON.stringify(session)}`);
    const key = `${deviceId}/${session}`;
    this.#calls.get(key)?.abandon();
    const call = new Call(
      deviceId,
      session,
      { sdp: offer.sdp, stream: offer.stream ?? DEFAULT_STREAM },
      {
        ready: () => this.#subscribeTx(deviceId),
        send: async (message) => {
          await this.#client.publishAsync(rx, encodeMessage(message), { qos: 1 });
        },
        release: () => {
          if (this.#calls.get(key) === call) this.#calls.delete(key);
        },
      },
      this.#answerTimeoutMs,
    );
    this.#calls.set(key, call);
    // Known offline: the offer may go nowhere; it goes again when the device
    // announces itself (#onStatus).
    if (this.#devices.get(deviceId)?.online === false) call.offerMayBeLost();
    return call;
  }

  /**
   * A JPEG of the device's next frame, without a call (docs/signaling.md,
   * "Snapshots"): resolves with the reply (`data` is the JPEG in base64),
   * rejects with a CallError: the device's error code, or `timeout`.
   */
  async snapshot(
    deviceId: string,
    options: { width?: number; stream?: string; timeoutMs?: number } = {},
  ): Promise<SnapshotMessage> {
    if (this.#closing) throw new CallError("closed", "the viewer client is closed", { deviceId });
    const request = snapshotRequest(randomId(), {
      ...(options.stream === undefined ? {} : { stream: options.stream }),
      ...(options.width === undefined ? {} : { width: options.width }),
    });
    const key = `${deviceId}/${request.session}`;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const reply = new Promise<SnapshotMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#snapshots.delete(key);
        reject(new CallError("timeout", `no snapshot from ${deviceId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        this.#snapshots.delete(key);
      };
      this.#snapshots.set(key, {
        resolve: (m) => {
          settle();
          resolve(m);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
    });
    try {
      await this.#subscribeTx(deviceId);
      const rx = rxTopic(this.prefix, deviceId, this.viewerId);
      await this.#client.publishAsync(rx, encodeMessage(request), { qos: 1 });
    } catch (err) {
      this.#snapshots.get(key)?.reject(
        new CallError("closed", `could not ask ${deviceId}: ${(err as Error).message}`, {
          deviceId,
        }),
      );
    }
    return reply;
  }

  /**
   * The ICE servers `deviceId` last gave this viewer, while their
   * credentials have a while to run (a tenth of their lifetime, at most
   * 5 minutes, is kept in hand), or undefined. Every call asks again, so
   * the next one has fresh ones (docs/signaling.md, "ICE servers").
   */
  cachedIceServers(deviceId: string): IceServerEntry[] | undefined {
    const known = this.#iceServers.get(deviceId);
    if (!known) return undefined;
    if (performance.now() < known.useUntil) return known.servers;
    this.#iceServers.delete(deviceId);
    return undefined;
  }

  /** Hangs up every call (bye), then disconnects; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const call of [...this.#calls.values()]) call.hangup();
      // end(false) lets queued publishes (the byes) flush before DISCONNECT;
      // a client that is not connected has nobody to flush to, and would wait
      // for ever (a refused login leaves its first SUBSCRIBE queued).
      await this.#client.endAsync(!this.#client.connected);
      this.#setState("closed");
    })();
    return this.#closing;
  }

  #subscribeTx(deviceId: string): Promise<void> {
    let subscribed = this.#txSubscriptions.get(deviceId);
    if (!subscribed) {
      const topic = txTopic(this.prefix, deviceId, this.viewerId);
      subscribed = this.#client.subscribeAsync(topic, { qos: 1 }).then(() => undefined);
      // A failed subscribe is retried by the next call.
      subscribed.catch(() => this.#txSubscriptions.delete(deviceId));
      this.#txSubscriptions.set(deviceId, subscribed);
    }
    return subscribed;
  }

  #onMessage(topic: string, payload: Uint8Array): void {
    const parsed = parseTopic(this.prefix, topic);
    if (parsed?.kind === "status") {
      this.#onStatus(parsed.deviceId, topic, payload);
    } else if (parsed?.kind === "tx" && parsed.viewerId === this.viewerId) {
      const result = parseViewerInbound(payload);
      if (result.kind === "invalid") this.emit("invalid", topic, result.why);
      if (result.kind !== "message") return;
      const msg = result.msg;
      if (msg.type === "ice-servers") {
        this.#onIceServers(parsed.deviceId, msg);
        return;
      }
      const waiting =
        msg.session === undefined
          ? undefined
          : this.#snapshots.get(`${parsed.deviceId}/${msg.session}`);
      if (waiting && msg.type === "snapshot") {
        waiting.resolve(msg);
        return;
      }
      if (waiting && msg.type === "error") {
        waiting.reject(new CallError(msg.code, msg.message, { deviceId: parsed.deviceId }));
        return;
      }
      const call =
        msg.session === undefined
          ? undefined
          : this.#calls.get(`${parsed.deviceId}/${msg.session}`);
      if (call) call.receive(msg);
      else if (msg.type === "error") this.emit("error-reply", parsed.deviceId, msg);
    }
  }

  /** A device's ICE servers: kept for the next calls, and given to every call with it. */
  #onIceServers(deviceId: string, msg: IceServersMessage): void {
    const ttlMs = (msg.ttl ?? Infinity) * 1000;
    const useUntil = performance.now() + ttlMs - Math.min(300_000, ttlMs / 10);
    this.#iceServers.set(deviceId, { servers: msg.iceServers, useUntil });
    for (const call of this.#calls.values()) {
      if (call.deviceId === deviceId) call.receive(msg);
    }
  }

  #onStatus(deviceId: string, topic: string, payload: Uint8Array): void {
    const result = parseStatus(payload);
    if (result.kind === "invalid") {
      this.emit("invalid", topic, result.why);
    } else if (result.kind === "cleared") {
      if (this.#devices.delete(deviceId)) this.emit("removed", deviceId);
    } else {
      const status = result.status;
      const previous = this.#devices.get(deviceId);
      // Offline keeps what we knew (name, streams) so a list can still show it.
      const device: DeviceState = status.online
        ? {
            deviceId,
            online: true,
            name: status.name,
            version: status.version,
            streams: status.streams,
            ts: status.ts,
          }
        : { ...(previous ?? { deviceId, streams: [] }), online: false };
      this.#devices.set(deviceId, device);
      this.emit("device", device);
      // A device's status is new when it (re)connects (docs/signaling.md
      // "Status"); a retained one the broker sends again has the same ts.
      const announced = status.online && (previous?.online !== true || previous.ts !== status.ts);
      for (const call of this.#calls.values()) {
        if (call.deviceId !== deviceId) continue;
        if (!status.online) call.offerMayBeLost();
        else if (announced) call.deviceAnnounced();
      }
    }
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state || this.#state === "closed") return;
    this.#state = state;
    this.emit("state", state);
  }
}
