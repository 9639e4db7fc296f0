import { join } from "node:path";
import type { Config } from "./config.js";
import { HttpServer, type HealthPart } from "./http/http-server.js";
import { MetricsRegistry } from "./http/metrics.js";
import { findUp } from "./paths.js";
import { gatewayMetrics } from "./gateway-metrics.js";
import type { Logger } from "./logger.js";
import type { H264Source } from "./media/source.js";
import { RTP_HEADER_SIZE } from "./rtp/packetizer.js";
import { EmbeddedBroker } from "./signaling/broker.js";
import { DeviceSignaling } from "./signaling/device-signaling.js";
import { createSource } from "./source-factory.js";
import { VERSION } from "./version.js";
import { SessionManager } from "./webrtc/session-manager.js";

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

const RETRY_MS = 5000;

/**
 * The running service: one source, the WebRTC session manager, device
 * signaling, the HTTP server and (by default) the embedded broker. start()
 * brings them up in dependency order; close() takes them down in reverse,
 * so viewers get `bye` (shutdown) and the broker gets the offline status.
 */
export class Gateway {
  private signaling: DeviceSignaling | null = null;
  private signalingError = "connecting";
  private retryTimer: NodeJS.Timeout | null = null;
  private sourceError: string | null = null;
  private closing: Promise<void> | null = null;
  addresses: GatewayAddresses | null = null;

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
    const sessions = new SessionManager({
      streams: { main: source },
      maxViewers: config["max-viewers"],
      ice: {
        iceServers: config["ice-servers"].map((s) => ({
          ...s,
          ...(s.username === undefined && config["ice-username"]
            ? { username: config["ice-username"] }
            : {}),
          ...(s.credential === undefined && config["ice-credential"]
            ? { credential: config["ice-credential"] }
            : {}),
        })),
        ...(config["ice-host-addresses"].length
          ? { hostAddresses: config["ice-host-addresses"] }
          : {}),
      },
      // The config's MTU bounds the whole RTP packet; the payloader's limit
      // is the payload after the 12-byte RTP header (RFC 3550 5.1).
      maxPayloadSize: config.mtu - RTP_HEADER_SIZE,
      livenessTimeoutMs: config["consent-timeout"] * 1000,
      keepWarm: config["keep-warm"],
      // The spec wants an answer within 1 s and werift gives one in a few
      // ms; this only bounds a negotiation that hangs. A slow board (or
      // qemu) can take over 1 s for its very first answer: answer late
      // rather than refuse.
      answerTimeoutMs: 5000,
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
    this.source.on("frame", () => {
      this.sourceError = null;
    });
    if (config["keep-warm"]) await this.sessions.warmUp();
    this.metrics.register(() => gatewayMetrics(this.sessions, this.signaling, this.source));

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
  }

  /** Connects signaling; an unreachable broker is retried, never fatal: /healthz says so. */
  private connectSignaling(url: string): void {
    const { config, log } = this;
    const info = this.source.info;
    const signaling = new DeviceSignaling({
      url,
      deviceId: config["device-id"],
      prefix: config.prefix,
      status: {
        name: config.name,
        version: VERSION,
        streams: [
          { id: "main", codec: "H264", width: info.width, height: info.height, fps: info.fps },
        ],
      },
      host: this.sessions,
      ...(config["broker-username"] ? { username: config["broker-username"] } : {}),
      ...(config["broker-password"] ? { password: config["broker-password"] } : {}),
      ...(config["broker-ca"] ? { caFile: config["broker-ca"] } : {}),
      rejectUnauthorized: !config["broker-insecure"],
    });
    this.signaling = signaling;
    signaling.on("connected", () => {
      this.signalingError = "";
      log.info(
        `signaling: connected to ${redactUrl(url)} as ${config.prefix}/${config["device-id"]}`,
      );
    });
    signaling.on("disconnected", () => {
      if (this.closing) return;
      this.signalingError = "broker connection lost; reconnecting";
      log.warn(`signaling: ${this.signalingError}`);
    });
    signaling.on("error", (err) => {
      this.signalingError = err.message;
      log.warn(`signaling: ${err.message}`);
    });
    signaling.start().then(
      () => {
        this.signalingError = "";
      },
      (err: unknown) => {
        this.signalingError = (err as Error).message;
        log.error(`signaling: ${this.signalingError}; retrying in ${RETRY_MS / 1000} s`);
        if (this.closing) return;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          if (!this.closing) this.connectSignaling(url);
        }, RETRY_MS);
      },
    );
  }

  health(): HealthPart[] {
    const signalingOk = this.signaling?.connected ?? false;
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
        detail: signalingOk ? "connected" : this.signalingError || "down",
      },
    ];
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // Sessions first: their `bye` (shutdown) goes out over signaling before
    // it publishes the offline status and disconnects.
    await this.sessions.close();
    await this.signaling?.close();
    await this.source.close();
    await this.broker?.close();
    await this.http.close();
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
