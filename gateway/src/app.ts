import { join } from "node:path";
import { createAudio, type AudioDevices } from "./audio-factory.js";
import type { Config } from "./config.js";
import { createControl, type Control } from "./control-factory.js";
import { HttpServer, type HealthPart } from "./http/http-server.js";
import { MetricsRegistry } from "./http/metrics.js";
import { findUp } from "./paths.js";
import { gatewayMetrics } from "./gateway-metrics.js";
import type { Logger } from "./logger.js";
import type { H264Source } from "./media/source.js";
import { RTP_HEADER_SIZE } from "./rtp/packetizer.js";
import { EmbeddedBroker } from "./signaling/broker.js";
import { SignalingDispatcher } from "./signaling/dispatcher.js";
import { reportLink } from "./signaling/link-report.js";
import { DEFAULT_STREAM, type StreamInfo } from "./signaling/messages.js";
import { MqttLink } from "./signaling/mqtt-link.js";
import { createSource } from "./source-factory.js";
import { VERSION } from "./version.js";
import { SessionManager } from "./webrtc/session-manager.js";
import { sharedTokenAuthorizer } from "./whep/whep-auth.js";
import { WhepEndpoint } from "./whep/whep-endpoint.js";
import { WhipEgress } from "./whip/whip-egress.js";

/**
 * The configured STUN/TURN servers, with ice-username/ice-credential filled
 * in where a server has none. A function, so that short-lived TURN
 * credentials can be made per call.
 */
function iceServers(config: Config): Config["ice-servers"] {
  return config["ice-servers"].map((s) => ({
    ...s,
    ...(s.username === undefined && config["ice-username"]
      ? { username: config["ice-username"] }
      : {}),
    ...(s.credential === undefined && config["ice-credential"]
      ? { credential: config["ice-credential"] }
      : {}),
  }));
}

/** Where the built viewer lives: web-viewer/dist beside gateway/, in the repo and in /opt/camgw. */
function viewerRoot(): string | null {
  const root = findUp(join("web-viewer", "dist", "index.html"));
  return root ? join(root, "web-viewer", "dist") : null;
}

export interface GatewayAddresses {
  http: string;
  /** The embedded broker's MQTT/TCP URL, when it runs. */
  mqtt?: string;
  /** Where the device itself connects for signaling. */
  brokerUrl: string;
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
  private sourceError: string | null = null;
  private closing: Promise<void> | null = null;
  addresses: GatewayAddresses | null = null;
  /** The sound card and the control channel (set by start()). */
  private extras: { audio: AudioDevices; control: Control | null } = { audio: {}, control: null };

  private constructor(
    private readonly config: Config,
    private readonly log: Logger,
    readonly source: H264Source,
    readonly sessions: SessionManager,
    private readonly http: HttpServer,
    private readonly metrics: MetricsRegistry,
    private broker: EmbeddedBroker | null = null,
  ) {}

  static async start(config: Config, log: Logger): Promise<Gateway> {
    const source = createSource(config);
    let audio: AudioDevices = {};
    let control: Control | null = null;
    try {
      audio = createAudio(config, log);
      control = await createControl(config, source, log);
    } catch (err) {
      await source.close();
      await audio.microphone?.close();
      throw err;
    }
    const sessions = new SessionManager({
      streams: { [DEFAULT_STREAM]: source },
      maxViewers: config["max-viewers"],
      ice: {
        iceServers: iceServers(config),
        ...(config["ice-host-addresses"].length
          ? { hostAddresses: config["ice-host-addresses"] }
          : {}),
      },
      // The config's MTU bounds the whole RTP packet; the payloader's limit
      // is the payload after the fixed RTP header (RFC 3550 5.1).
      maxPayloadSize: config.mtu - RTP_HEADER_SIZE,
      livenessTimeoutMs: config["consent-timeout"] * 1000,
      keepWarm: config["keep-warm"],
      // The spec wants an answer within 1 s and werift gives one in a few
      // ms; this only bounds a negotiation that hangs. A slow board (or
      // qemu) can take over 1 s for its very first answer: answer late
      // rather than refuse.
      answerTimeoutMs: 5000,
      audio,
      control: control.handler,
      warn: (message) => log.warn(message),
    });
    const metrics = new MetricsRegistry();
    let gateway: Gateway | null = null;
    const http = new HttpServer({
      host: config.listen,
      port: config["http-port"],
      viewerRoot: viewerRoot(),
      health: () => gateway?.health() ?? [{ name: "gateway", ok: false, detail: "starting" }],
      metrics,
    });
    gateway = new Gateway(config, log, source, sessions, http, metrics);
    gateway.extras = { audio, control };
    try {
      await gateway.bringUp();
    } catch (err) {
      await gateway.close();
      throw err;
    }
    return gateway;
  }

  private async bringUp(): Promise<void> {
    const { config, log } = this;
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
    this.metrics.register(() =>
      gatewayMetrics({
        sessions: this.sessions,
        dispatcher: this.dispatcher,
        link: this.link,
        source: this.source,
        whep: this.whep,
        whip: this.whip,
      }),
    );

    const httpAddress = await this.http.listen();
    const httpHost = config.listen === "0.0.0.0" ? "127.0.0.1" : config.listen;
    const httpUrl = `http://${httpHost}:${httpAddress.port}/`;
    let brokerUrl = config.broker;
    let mqttUrl: string | undefined;
    if (config.broker === "embedded") {
      this.broker = await EmbeddedBroker.start({
        host: config.listen,
        port: config["mqtt-port"],
        wsPort: config["mqtt-ws-port"] || null,
      });
      this.broker.on("clientError", (err) => log.debug(`broker: ${err.message}`));
      this.broker.attachTo(this.http.server, "/mqtt");
      mqttUrl = `mqtt://${httpHost}:${this.broker.port ?? 0}`;
      brokerUrl = mqttUrl;
    }
    this.addresses = { http: httpUrl, brokerUrl, ...(mqttUrl ? { mqtt: mqttUrl } : {}) };
    this.connectSignaling(brokerUrl);
    if (config["whip-url"]) this.pushWhip(config["whip-url"]);
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
   * Starts signaling: the dispatcher on the session manager, and the MQTT
   * link that feeds it. The link reconnects by itself for as long as it is
   * open; an unreachable broker is never fatal, /healthz and the log say so.
   */
  private connectSignaling(url: string): void {
    const { config, log } = this;
    const dispatcher = new SignalingDispatcher({ host: this.sessions });
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
      ...(config["broker-username"] ? { username: config["broker-username"] } : {}),
      ...(config["broker-password"] ? { password: config["broker-password"] } : {}),
      ...(config["broker-ca"] ? { caFile: config["broker-ca"] } : {}),
      rejectUnauthorized: !config["broker-insecure"],
    });
    this.link = link;
    reportLink(link, log);
    link.connect();
  }

  /**
   * WHEP on the HTTP port (docs/whep.md): a second transport into the same
   * dispatcher and session manager. It refuses everything until a whep-token
   * is configured.
   */
  private serveWhep(dispatcher: SignalingDispatcher): void {
    const { config } = this;
    const whep = new WhepEndpoint({
      sink: dispatcher,
      authorizer: sharedTokenAuthorizer(config["whep-token"]),
      hasStream: (stream) => stream === DEFAULT_STREAM,
      iceServers: () => iceServers(config),
      corsOrigins: config["whep-cors-origins"],
    });
    this.whep = whep;
    this.http.addRoute(whep.handle);
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
    // A link that is down is closed first: no bye could reach a viewer
    // through it, and no new attempt may start while the rest shuts down.
    // Closing it never waits for its retry timer.
    if (this.link && !this.link.connected) await this.link.close();
    // Otherwise sessions first: their `bye` (shutdown) goes out over
    // signaling before the link publishes the offline status and disconnects.
    this.whep?.close();
    // The media server is told first (DELETE), while the network is sure to be up.
    await this.whip?.close();
    await this.sessions.close();
    await this.extras.control?.close();
    this.dispatcher?.close();
    await this.link?.close();
    await this.source.close();
    await this.extras.audio.microphone?.close();
    this.extras.audio.speaker?.close();
    await this.broker?.close();
    await this.http.close();
  }
}
