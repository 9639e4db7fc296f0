import { EventEmitter } from "node:events";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import { connect as connectTcp, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as connectTls } from "node:tls";
import { WebSocketServer, createWebSocketStream, type WebSocket } from "ws";
import type { UpgradeCheck } from "./broker.js";

export interface BrokerBridgeOptions {
  /** The external broker: mqtt://host:port or mqtts://host:port. */
  url: string;
  /** PEM of the CA that signed the broker's certificate (broker-ca), for mqtts. */
  ca?: string | string[] | Buffer | Buffer[];
  /** false: accept any broker certificate (broker-insecure). */
  rejectUnauthorized: boolean;
  /** Bridged connections open at once; default 128, as the embedded broker's. */
  maxConnections?: number;
  /** Most time to reach the broker before the browser's WebSocket is closed; default 10 s. */
  connectTimeoutMs?: number;
}

export interface BrokerBridgeEvents {
  /** One bridged connection failed (broker unreachable, TLS refused, a WebSocket error); the bridge keeps serving. */
  clientError: [Error];
}

/**
 * One MQTT packet per WebSocket message at most (MQTT 3.1.1 6.0 allows
 * splitting, browsers' mqtt.js does not); signaling messages are a few KiB,
 * the embedded broker's frame guard allows 256 KiB.
 */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * MQTT over WebSocket at /mqtt on the gateway's web ports when the broker is
 * external (issue 13): the page the gateway serves connects where it always
 * does, and each of its WebSocket connections is piped, byte for byte, to its
 * own TCP or TLS connection to the broker. The browser logs in to the broker
 * itself, with its own credentials; the broker's ACL decides, not the bridge.
 * pipe() carries the back-pressure: the side that outruns the other is paused
 * once the other's buffer is full, so nothing buffers without bound.
 */
export class BrokerBridge extends EventEmitter<BrokerBridgeEvents> {
  readonly #options: BrokerBridgeOptions;
  readonly #target: URL;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  readonly #open = new Set<{ browser: Duplex; broker: Socket }>();
  readonly #detachers = new Set<() => void>();
  #closing: Promise<void> | null = null;

  constructor(options: BrokerBridgeOptions) {
    super();
    const target = new URL(options.url);
    if (target.protocol !== "mqtt:" && target.protocol !== "mqtts:") {
      throw new TypeError(`the bridge reaches mqtt:// or mqtts:// brokers, not ${options.url}`);
    }
    this.#options = options;
    this.#target = target;
  }

  /** Bridged connections open now. */
  get connections(): number {
    return this.#open.size;
  }

  /**
   * Bridges upgrades for `path` on `server`, after `check` (the web ports'
   * Origin rule) and the connection cap; others are left to other listeners.
   * Returns a function that detaches it.
   */
  attachTo(server: HttpServer, path = "/mqtt", check?: UpgradeCheck): () => void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
      if (pathname !== path) return;
      const refusal = this.#refusal(req, check);
      if (refusal) {
        const body = `${refusal.text}\n`;
        socket.end(
          `HTTP/1.1 ${refusal.status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => this.#bridge(ws));
    };
    server.on("upgrade", onUpgrade);
    const detach = (): void => {
      server.off("upgrade", onUpgrade);
      this.#detachers.delete(detach);
    };
    this.#detachers.add(detach);
    return detach;
  }

  #refusal(req: IncomingMessage, check?: UpgradeCheck): { status: string; text: string } | null {
    if (this.#closing) return { status: "503 Service Unavailable", text: "closing" };
    const refused = check?.(req);
    if (refused !== undefined) return { status: "403 Forbidden", text: refused };
    if (this.#open.size >= (this.#options.maxConnections ?? 128))
      return { status: "503 Service Unavailable", text: "too many MQTT connections" };
    return null;
  }

  #bridge(ws: WebSocket): void {
    const browser = createWebSocketStream(ws);
    const broker = this.#connectBroker();
    const pair = { browser, broker };
    this.#open.add(pair);
    let ended = false;
    const end = (err?: Error): void => {
      if (ended) return;
      ended = true;
      this.#open.delete(pair);
      if (err) this.emit("clientError", err);
      broker.destroy();
      browser.destroy();
    };
    broker.setTimeout(this.#options.connectTimeoutMs ?? 10_000, () =>
      end(new Error(`MQTT broker ${this.#target.host}: no connection in time`)),
    );
    broker.once("connect", () => broker.setTimeout(0));
    broker.setNoDelay(true);
    broker.on("error", (err) => end(new Error(`MQTT broker ${this.#target.host}: ${err.message}`)));
    browser.on("error", (err) => end(err));
    broker.once("close", () => end());
    browser.once("close", () => end());
    browser.pipe(broker);
    broker.pipe(browser);
  }

  #connectBroker(): Socket {
    const host = this.#target.hostname.replace(/^\[|\]$/g, "");
    if (this.#target.protocol === "mqtts:") {
      return connectTls({
        host,
        port: Number(this.#target.port || 8883),
        ...(this.#options.ca ? { ca: this.#options.ca } : {}),
        rejectUnauthorized: this.#options.rejectUnauthorized,
        // SNI takes names, not addresses (RFC 6066 3).
        ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
      });
    }
    return connectTcp({ host, port: Number(this.#target.port || 1883) });
  }

  /** Detaches from the web ports and ends every bridged connection; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const detach of [...this.#detachers]) detach();
      for (const { browser, broker } of [...this.#open]) {
        broker.destroy();
        browser.destroy();
      }
      this.#open.clear();
      await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    })();
    return this.#closing;
  }
}
