import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createAudio, type AudioDevices } from "./audio-factory.js";
import { accountAuthenticator } from "./auth/account-authenticator.js";
import { AccountStore, type NewViewer } from "./auth/account-store.js";
import { deviceCredential, type DeviceCredential } from "./auth/device-credential.js";
import { ensureStateDir, stateDirFrom } from "./auth/state-dir.js";
import { loadTlsMaterial, type TlsMaterial } from "./auth/tls-material.js";
import { TlsRenewal } from "./auth/tls-renewal.js";
import type { Config } from "./config.js";
import { createControl, type Control } from "./control-factory.js";
import type { HttpAccess } from "./http/access.js";
import { ConfigError } from "./errors.js";
import { HttpServer, type HealthPart } from "./http/http-server.js";
import { lanAddresses } from "./lan-addresses.js";
import { MetricsRegistry, type Sample } from "./http/metrics.js";
import { findUp } from "./paths.js";
import { explainPortClash } from "./port-clash.js";
import { gatewayMetrics } from "./gateway-metrics.js";
import { homeAssistantScope } from "./homeassistant/ha-scope.js";
import type { HomeAssistantLink, SnapshotFn } from "./homeassistant/home-assistant-link.js";
import { startHomeAssistant } from "./homeassistant/start-home-assistant.js";
import { ProcessStats } from "./process-stats.js";
import type { Logger } from "./logger.js";
import type { H264Source } from "./media/source.js";
import { RTP_HEADER_SIZE } from "./rtp/packetizer.js";
import { EmbeddedBroker } from "./signaling/broker.js";
import { BrokerBridge } from "./signaling/broker-bridge.js";
import { tlsClientOptions } from "./signaling/mqtt-connection.js";
import { SignalingDispatcher } from "./signaling/dispatcher.js";
import { reportLink } from "./signaling/link-report.js";
import { DEFAULT_STREAM, type IceServerEntry, type StreamInfo } from "./signaling/messages.js";
import { MqttLink } from "./signaling/mqtt-link.js";
import { createSource } from "./source-factory.js";
import { signalingSnapshots } from "./snapshot/signaling-snapshots.js";
import { SnapshotRoute } from "./snapshot/snapshot-route.js";
import { SnapshotService, type TakeSnapshot } from "./snapshot/snapshot-service.js";
import { VERSION } from "./version.js";
import { AddressWatch } from "./webrtc/address-watch.js";
import { IceServerProvider } from "./webrtc/ice-server-provider.js";
import { SessionManager } from "./webrtc/session-manager.js";
import {
  accountTokenAuthorizer,
  SHARED_TOKEN_ACCOUNT,
  sharedTokenAuthorizer,
  type WhepAuthorizer,
} from "./whep/whep-auth.js";
import type { LinkIceServer } from "./whep/link-header.js";
import { WhepEndpoint } from "./whep/whep-endpoint.js";
import { WhipEgress } from "./whip/whip-egress.js";

/** Servers as WHEP's Link headers carry them: one URL each (RFC 9725 section 4.6). */
function linkServers(servers: readonly IceServerEntry[]): LinkIceServer[] {
  return servers.flatMap((server) =>
    (Array.isArray(server.urls) ? server.urls : [server.urls]).map((urls) => ({
      urls,
      ...(server.username === undefined ? {} : { username: server.username }),
      ...(server.credential === undefined ? {} : { credential: server.credential }),
    })),
  );
}

/** The turns: CA certificates from `turn-ca`, or undefined (the system's list). */
function readTurnCa(path: string): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`turn-ca ${path}: ${(err as Error).message}`, { key: "turn-ca" });
  }
}

/** Where the built viewer lives: web-viewer/dist beside gateway/, in the repo and in /opt/camgw. */
function viewerRoot(): string | null {
  const root = findUp(join("web-viewer", "dist", "index.html"));
  return root ? join(root, "web-viewer", "dist") : null;
}

export interface GatewayAddresses {
  /** The plain viewer page, on loopback unless allow-plain-lan: http://127.0.0.1:8080/ */
  http: string;
  /** The HTTPS viewer page for the LAN (a LAN address when listening on all): https://192.168.1.20:8443/ */
  https: string;
  /** The HTTPS page as this machine reaches it: https://127.0.0.1:8443/ */
  httpsLocal: string;
  /** The HTTPS page at this machine's other LAN addresses, when listening on all (lan-addresses.ts). */
  httpsAlso: string[];
  /** The embedded broker's plain MQTT/TCP URL, when it runs. */
  mqtt?: string;
  /** The embedded broker's MQTT over TLS URL, when it runs. */
  mqtts?: string;
  /** Where the device itself connects for signaling. */
  brokerUrl: string;
}

export interface GatewayOptions {
  /**
   * Make a first viewer ("owner") when the state directory has no accounts
   * file yet, so `make run` ends with a link a person can open. The CLI
   * turns it off when its output goes to the journal (secrets never go to logs).
   */
  createFirstViewer?: boolean;
  /**
   * JPEGs for Home Assistant's camera entity instead of the camera's own
   * snapshots (docs/home-assistant.md).
   */
  snapshot?: SnapshotFn;
}

/** The plain listeners' address: loopback, unless the config lets them on the LAN. */
export function plainHost(config: Config): string {
  return config["allow-plain-lan"] ? config.listen : "127.0.0.1";
}

/**
 * The running service: one source, the WebRTC session manager, the signaling
 * dispatcher and its MQTT link, the HTTP server and (by default) the
 * embedded broker. start() brings them up in dependency order; close() takes
 * them down in reverse, so viewers get `bye` (shutdown) and the broker gets
 * the offline status.
 */
export class Gateway {
  private dispatcher: SignalingDispatcher | null = null;
  private link: MqttLink | null = null;
  private whep: WhepEndpoint | null = null;
  private whip: WhipEgress | null = null;
  private broker: EmbeddedBroker | null = null;
  private bridge: BrokerBridge | null = null;
  private sourceError: string | null = null;
  /** Snapshots of the camera (docs/snapshots.md): HTTP, signaling, and `takeSnapshot`. */
  readonly snapshots: SnapshotService;
  private closing: Promise<void> | null = null;
  private addressWatch: AddressWatch | null = null;
  private homeAssistant: HomeAssistantLink | null = null;
  private readonly processStats = new ProcessStats();
  private tlsRenewal: TlsRenewal | null = null;
  addresses: GatewayAddresses | null = null;
  /** The viewer made on this first start, if any (its secrets are shown once, by the CLI). */
  firstViewer: NewViewer | null = null;
  /** The sound card and the control channel (set by start()). */
  private extras: { audio: AudioDevices; control: Control | null } = { audio: {}, control: null };

  private constructor(
    private readonly config: Config,
    private readonly log: Logger,
    readonly source: H264Source,
    readonly sessions: SessionManager,
    private readonly http: HttpServer,
    private readonly metrics: MetricsRegistry,
    readonly accounts: AccountStore,
    /** The certificate served now (a renewal replaces it). */
    public tls: TlsMaterial,
    readonly stateDir: string,
  ) {
    this.snapshots = new SnapshotService({
      source,
      // The stream's own start/stop on demand: the camera runs while a
      // snapshot needs it, as it does while someone watches.
      hold: () => sessions.holdStream(DEFAULT_STREAM) ?? (() => undefined),
      lingerMs: config["snapshot-linger"] * 1000,
    });
  }

  /** The camera's next frame as JPEG; rejects with SnapshotError (docs/snapshots.md). */
  readonly takeSnapshot: TakeSnapshot = (request) => this.snapshots.take(request);

  static async start(config: Config, log: Logger, options: GatewayOptions = {}): Promise<Gateway> {
    // Secrets first: a state directory we cannot use stops the start with its path.
    const stateDir = stateDirFrom(config["state-dir"]);
    await ensureStateDir(stateDir);
    const accounts = await AccountStore.open(stateDir);
    const tls = await loadTlsMaterial({
      stateDir,
      ...(config["tls-cert"] ? { certFile: config["tls-cert"] } : {}),
      ...(config["tls-key"] ? { keyFile: config["tls-key"] } : {}),
    });
    if (tls.created) log.info(`made a self-signed TLS certificate in ${stateDir}`);
    const turnTlsCa = readTurnCa(config["turn-ca"]);
    const source = createSource(config);
    const iceServers = new IceServerProvider({
      servers: config["ice-servers"],
      turnSecret: config["turn-secret"],
      credentialTtlS: config["turn-credential-ttl"],
      deviceId: config["device-id"],
      username: config["ice-username"],
      credential: config["ice-credential"],
    });
    iceServers.on("transport", (url, transport) => {
      log.info(
        transport === "tcp"
          ? `TURN ${url}: UDP got no allocation and TCP did; new sessions use TCP there for 10 min`
          : `TURN ${url}: UDP allocates again`,
      );
    });
    let audio: AudioDevices = {};
    let control: Control | null = null;
    try {
      audio = createAudio(config, log);
      control = await createControl(config, source, log);
    } catch (err) {
      await source.close();
      await audio.microphone?.close();
      accounts.close();
      throw err;
    }
    const sessions = new SessionManager({
      streams: { [DEFAULT_STREAM]: source },
      maxViewers: config["max-viewers"],
      iceServers,
      ice: {
        ...(config["ice-host-addresses"].length
          ? { hostAddresses: config["ice-host-addresses"] }
          : {}),
        ...(turnTlsCa ? { turnTlsCa } : {}),
      },
      // The config's MTU bounds the whole RTP packet; the payloader's limit
      // is the payload after the fixed RTP header (RFC 3550 5.1).
      maxPayloadSize: config.mtu - RTP_HEADER_SIZE,
      livenessTimeoutMs: config["consent-timeout"] * 1000,
      keepWarm: config["keep-warm"],
      ...(config["adapt-bitrate"]
        ? {
            encoderBitrate: { minKbps: config["min-bitrate"], maxKbps: config.bitrate },
            degradation: config.degradation,
            lowEncoding: config["low-encoding"],
          }
        : {}),
      // The spec wants an answer within 1 s and werift gives one in a few
      // ms; this only bounds a negotiation that hangs. A slow board (or
      // qemu) can take over 1 s for its very first answer: answer late
      // rather than refuse.
      answerTimeoutMs: 5000,
      audio,
      control: control.handler,
      warn: (message) => log.warn(message),
      info: (message) => log.info(message),
    });
    const metrics = new MetricsRegistry();
    let gateway: Gateway | null = null;
    const access: HttpAccess = {
      verifyToken: (token) => accounts.verifyToken(token),
      metrics: config["metrics-access"],
      allowedOrigins: config["allowed-origins"],
    };
    const http = new HttpServer({
      listeners: [
        { host: plainHost(config), port: config["http-port"] },
        { host: config.listen, port: config["https-port"], tls },
      ],
      viewerRoot: viewerRoot(),
      health: () => gateway?.health() ?? [{ name: "gateway", ok: false, detail: "starting" }],
      metrics,
      access,
      maxConnectionsPerAddress: config["max-connections-per-address"],
    });
    gateway = new Gateway(config, log, source, sessions, http, metrics, accounts, tls, stateDir);
    gateway.extras = { audio, control };
    try {
      await gateway.bringUp(options);
    } catch (err) {
      await gateway.close();
      throw explainPortClash(err, config);
    }
    return gateway;
  }

  private async bringUp(options: GatewayOptions): Promise<void> {
    const { config, log } = this;
    if (options.createFirstViewer === true && !this.accounts.existed) {
      this.firstViewer = await this.accounts.add("owner");
    }
    this.accounts.on("changed", ({ added, ended }) => {
      for (const name of added) log.info(`viewer ${name} added`);
      for (const name of ended) void this.endViewer(name);
    });
    this.accounts.on("error", (err) => log.warn(`viewer accounts: ${err.message}`));
    this.accounts.watch();
    this.source.on("error", (err) => {
      this.sourceError = err.message;
      log.warn(`source: ${err.message}`);
    });
    this.source.on("warning", (err) => log.warn(`source: ${err.message}`));
    // One line per change of state, not per retry: a camera away for an hour logs twice.
    let downSince: number | null = null;
    this.source.on("state", (status) => {
      if (status.state === "live") {
        const after =
          downSince === null
            ? ""
            : ` after ${((performance.now() - downSince) / 1000).toFixed(1)} s`;
        log.info(`source: live again${after}`);
        downSince = null;
        this.sourceError = null;
      } else {
        downSince ??= performance.now();
        this.sourceError = `${status.state} (${status.reason ?? "unknown"})`;
        log.warn(
          `source: ${status.state} (${status.reason ?? "unknown"}); ${status.state === "unavailable" ? "reopening it as soon as it is back" : "restarting it"}, sessions stay for ${config["source-timeout"]} min`,
        );
      }
      this.link?.updateStatus({ streams: this.streamInfo() });
    });
    this.source.on("frame", () => {
      this.sourceError = null;
    });
    if (config["keep-warm"]) await this.sessions.warmUp();
    this.sessions.on("connected", (viewerId, session, path) => {
      log.info(`viewer ${viewerId} (session ${session}) connected: ${path}`);
    });
    this.sessions.on("ice-restart", (viewerId, session, reason) => {
      log.info(`viewer ${viewerId} (session ${session}): asked to restart ICE (${reason})`);
    });
    this.watchAddresses();
    this.http.addRoute(
      new SnapshotRoute({ service: this.snapshots, authorizer: this.tokenAuthorizer() }).handle,
    );
    const samples = (): Sample[] =>
      gatewayMetrics({
        sessions: this.sessions,
        dispatcher: this.dispatcher,
        link: this.link,
        source: this.source,
        whep: this.whep,
        whip: this.whip,
        snapshots: this.snapshots,
        process: this.processStats,
        connections: {
          http: this.http.connectionStats,
          broker: this.broker?.connectionStats ?? null,
        },
      });
    this.metrics.register(samples);

    const [plain, secure] = await this.http.listen();
    const local = reachable(plainHost(config));
    const secureLocal = reachable(config.listen);
    const lans = config.listen === "0.0.0.0" ? lanAddresses() : [];
    const lan = lans[0] ?? secureLocal;
    const httpUrl = `http://${local}:${plain?.port ?? 0}/`;
    const httpsPort = secure?.port ?? 0;
    let brokerUrl = config.broker;
    let mqttUrl: string | undefined;
    let mqttsUrl: string | undefined;
    const device = await this.deviceCredential();
    if (config.broker === "embedded") {
      this.broker = await EmbeddedBroker.start({
        host: plainHost(config),
        port: config["mqtt-port"],
        wsPort: config["mqtt-ws-port"] || null,
        tls: {
          host: config.listen,
          port: config["mqtts-port"],
          cert: this.tls.cert,
          key: this.tls.key,
        },
        maxConnectionsPerAddress: config["max-connections-per-address"],
        auth: accountAuthenticator(
          {
            prefix: config.prefix,
            deviceId: config["device-id"],
            homeAssistant: homeAssistantScope(config),
          },
          device,
          this.accounts,
        ),
      });
      this.broker.on("clientError", (err) => log.debug(`broker: ${err.message}`));
      this.broker.on("loginRefused", (id, why) => log.debug(`broker: refused ${id}: ${why}`));
      for (const server of this.http.servers) {
        this.broker.attachTo(server, "/mqtt", this.http.mqttUpgradeCheck);
      }
      mqttUrl = `mqtt://${local}:${this.broker.port ?? 0}`;
      mqttsUrl = `mqtts://${secureLocal}:${this.broker.tlsPort ?? 0}`;
      brokerUrl = mqttUrl;
    } else if (/^mqtts?:/.test(config.broker)) {
      this.bridgeBroker(config.broker);
    }
    this.addresses = {
      http: httpUrl,
      https: `https://${urlHost(lan)}:${httpsPort}/`,
      httpsLocal: `https://${urlHost(secureLocal)}:${httpsPort}/`,
      httpsAlso: lans.slice(1).map((a) => `https://${urlHost(a)}:${httpsPort}/`),
      brokerUrl,
      ...(mqttUrl ? { mqtt: mqttUrl } : {}),
      ...(mqttsUrl ? { mqtts: mqttsUrl } : {}),
    };
    this.renewTls();
    this.connectSignaling(brokerUrl, device);
    this.homeAssistant = await startHomeAssistant({
      config,
      log,
      link: this.link,
      source: this.source,
      sessions: this.sessions,
      samples,
      // The camera's own snapshots where its source has raw frames (not a
      // passthrough H.264 camera, not a pipe command): no camera entity otherwise.
      snapshot:
        options.snapshot ??
        (this.source.snapshot
          ? async ({ width }) => (await this.snapshots.take({ width })).jpeg
          : null),
      stateDir: this.stateDir,
    });
    if (config["whip-url"]) this.pushWhip(config["whip-url"]);
  }

  /**
   * The certificate checked daily (the user's files also when they change)
   * and a new one served by the HTTPS and MQTT/TLS listeners at once
   * (auth/tls-renewal.ts). The fingerprint is logged: people compare it.
   */
  private renewTls(): void {
    const { config, log } = this;
    const certFile = config["tls-cert"];
    const renewal = new TlsRenewal({
      stateDir: this.stateDir,
      ...(certFile ? { certFile } : {}),
      ...(config["tls-key"] ? { keyFile: config["tls-key"] } : {}),
      current: this.tls,
    });
    renewal.on("renewed", (tls) => {
      this.http.setTls(tls);
      this.broker?.setTls(tls);
      this.tls = tls;
      log.info(
        tls.origin === "self-signed"
          ? `renewed the self-signed TLS certificate: SHA-256 ${tls.fingerprint}`
          : `serving the new TLS certificate from ${certFile}: SHA-256 ${tls.fingerprint}`,
      );
    });
    renewal.on("error", (err) => log.error(`TLS: ${err.message}`));
    this.tlsRenewal = renewal;
  }

  /**
   * An external MQTT/TCP or TLS broker: /mqtt on the web ports is bridged to
   * it, so the page the gateway serves works unchanged (issue 13). A ws(s)
   * broker the browser can reach itself: the page's Broker settings take it.
   */
  private bridgeBroker(url: string): void {
    const { config, log } = this;
    const bridge = new BrokerBridge({
      url,
      // The device link's own reading of broker-ca (a clear error when unreadable).
      ...tlsClientOptions({
        ...(config["broker-ca"] ? { caFile: config["broker-ca"] } : {}),
      }),
      rejectUnauthorized: !config["broker-insecure"],
    });
    bridge.on("clientError", (err) => log.debug(`broker bridge: ${err.message}`));
    for (const server of this.http.servers) {
      bridge.attachTo(server, "/mqtt", this.http.mqttUpgradeCheck);
    }
    this.bridge = bridge;
  }

  /**
   * WHIP egress (docs/scale.md): the main stream pushed to a media server,
   * one more sink on the stream's fan-out, kept there with backoff.
   */
  private pushWhip(url: string): void {
    const { log } = this;
    const whip = new WhipEgress({
      url,
      token: this.config["whip-token"],
      stream: DEFAULT_STREAM,
      host: this.sessions,
    });
    whip.on("pushing", () => log.info(`WHIP: pushing ${DEFAULT_STREAM} to ${whip.endpoint}`));
    whip.on("failed", (error, retryInMs) => {
      log.warn(`WHIP: ${error.message}; next attempt in ${(retryInMs / 1000).toFixed(1)} s`);
    });
    this.whip = whip;
    whip.start();
  }

  /**
   * The device's broker login: its own secret from the state directory, for
   * the embedded broker and for an external one set up with `camgw
   * broker-config`; the configured broker-username/password when given.
   */
  private async deviceCredential(): Promise<DeviceCredential> {
    const { config } = this;
    const own = await deviceCredential(this.stateDir, config["device-id"]);
    if (config.broker === "embedded" || !config["broker-username"]) return own;
    return { username: config["broker-username"], password: config["broker-password"] };
  }

  /**
   * A viewer was removed (or got new credentials): its MQTT connections end
   * and its sessions end now (bye `kicked`), whatever transport they came by.
   */
  private async endViewer(name: string): Promise<void> {
    const started = performance.now();
    // Sessions first, so their byes reach the viewer before its connections go.
    const sessions = (await this.dispatcher?.revoke(name)) ?? 0;
    const connections = this.broker?.disconnect(name) ?? 0;
    this.log.info(
      `viewer ${name} shut out: ended ${sessions} session(s) and ${connections} MQTT connection(s) in ${Math.round(performance.now() - started)} ms`,
    );
  }

  /**
   * Starts signaling: the dispatcher on the session manager, and the MQTT
   * link that feeds it. The link reconnects by itself for as long as it is
   * open; an unreachable broker is never fatal, /healthz and the log say so.
   */
  private connectSignaling(url: string, device: DeviceCredential): void {
    const { config, log } = this;
    const dispatcher = new SignalingDispatcher({
      host: this.sessions,
      // Who may watch: known accounts only, whatever the broker lets through.
      admit: (identity) =>
        identity.account === SHARED_TOKEN_ACCOUNT
          ? config["whep-token"] !== ""
          : this.accounts.has(identity.account ?? identity.viewerId),
      snapshots: signalingSnapshots(this.snapshots),
    });
    dispatcher.on("error", (err) => log.warn(`signaling: ${err.message}`));
    this.dispatcher = dispatcher;
    this.serveWhep(dispatcher);
    const link = new MqttLink({
      url,
      deviceId: config["device-id"],
      prefix: config.prefix,
      status: {
        name: config.name,
        version: VERSION,
        streams: this.streamInfo(),
      },
      sink: dispatcher,
      username: device.username,
      password: device.password,
      ...(config["broker-ca"] ? { caFile: config["broker-ca"] } : {}),
      rejectUnauthorized: !config["broker-insecure"],
    });
    this.link = link;
    reportLink(link, log);
    link.connect();
  }

  /**
   * WHEP on the HTTP port (docs/whep.md): a second transport into the same
   * dispatcher and session manager. Players log in with a viewer's bearer token
   * (or the shared whep-token, when configured).
   */
  private serveWhep(dispatcher: SignalingDispatcher): void {
    const { config } = this;
    const whep = new WhepEndpoint({
      sink: dispatcher,
      authorizer: this.tokenAuthorizer(),
      hasStream: (stream) => stream === DEFAULT_STREAM,
      // The same servers an MQTT viewer asks for: TURN credentials made for
      // this account, never the gateway's fixed ones (ice-server-provider.ts).
      iceServers: (viewer) => linkServers(this.sessions.iceServersFor(viewer.account).iceServers),
      corsOrigins: config["whep-cors-origins"],
    });
    this.whep = whep;
    this.http.addRoute(whep.handle);
  }

  /** Bearer tokens for WHEP and snapshots: a viewer's own, or the shared whep-token when set. */
  private tokenAuthorizer(): WhepAuthorizer {
    return accountTokenAuthorizer(
      (token) => this.accounts.verifyToken(token),
      sharedTokenAuthorizer(this.config["whep-token"]),
    );
  }

  /** The stream as the retained status describes it, its source's state included. */
  private streamInfo(): StreamInfo[] {
    const { width, height, fps } = this.source.info;
    const status = this.source.status ?? { state: "live" };
    return [
      {
        id: DEFAULT_STREAM,
        codec: "H264",
        width,
        height,
        fps,
        state: status.state,
        ...(status.reason === undefined ? {} : { reason: status.reason }),
      },
    ];
  }

  /**
   * When this host's addresses change, the MQTT connection (from an address
   * that may be gone) is made again at once, and viewers whose media used a
   * gone address are asked to restart ICE (docs/signaling.md, "Recovery").
   */
  private watchAddresses(): void {
    const watch = new AddressWatch();
    this.addressWatch = watch;
    watch.on("changed", ({ added, removed }) => {
      const list = (xs: string[]): string => (xs.length ? xs.join(", ") : "none");
      this.log.info(`network: addresses changed (new: ${list(added)}; gone: ${list(removed)})`);
      if (removed.length > 0) this.link?.reconnect(`address ${removed.join(", ")} is gone`);
      this.sessions.networkChanged(removed);
    });
  }

  health(): HealthPart[] {
    const signalingOk = this.link?.connected ?? false;
    const sourceOk = this.sourceError === null;
    return [
      {
        name: "source",
        ok: sourceOk,
        detail: sourceOk
          ? `${this.source.name} ${this.source.running ? "streaming" : "idle"}`
          : (this.sourceError ?? ""),
      },
      {
        name: "signaling",
        ok: signalingOk,
        detail: signalingOk ? "connected" : (this.link?.problem?.message ?? "connecting"),
      },
    ];
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.addressWatch?.close();
    // No state after this; the link's offline status makes the entities unavailable.
    this.homeAssistant?.close();
    // A link that is down is closed first: no bye could reach a viewer
    // through it, and no new attempt may start while the rest shuts down.
    // Closing it never waits for its retry timer.
    if (this.link && !this.link.connected) await this.link.close();
    // Otherwise sessions first: their `bye` (shutdown) goes out over
    // signaling before the link publishes the offline status and disconnects.
    this.whep?.close();
    // The media server is told first (DELETE), while the network is sure to be up.
    await this.whip?.close();
    this.snapshots.close();
    await this.sessions.close();
    await this.extras.control?.close();
    this.dispatcher?.close();
    await this.link?.close();
    await this.source.close();
    await this.extras.audio.microphone?.close();
    this.extras.audio.speaker?.close();
    await this.broker?.close();
    await this.bridge?.close();
    await this.http.close();
    this.accounts.close();
    this.processStats.close();
    this.tlsRenewal?.close();
  }
}

/** An address a client on this machine can use for a bind address (0.0.0.0 -> 127.0.0.1). */
function reachable(bind: string): string {
  if (bind === "0.0.0.0") return "127.0.0.1";
  if (bind === "::") return "::1";
  return bind;
}

/** An address as the host part of a URL (IPv6 in brackets). */
function urlHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
