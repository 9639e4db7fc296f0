import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Server as TlsServer } from "node:tls";
import { AddressCap, type ConnectionCapStats } from "./address-cap.js";
import { LOOPBACK_ONLY, mayReadFigures, originRefusal, type HttpAccess } from "./access.js";
import type { MetricsRegistry } from "./metrics.js";
import { SECURITY_HEADERS } from "./security-headers.js";
import { serveStatic } from "./static-files.js";

/**
 * A handler for some of the server's URLs (e.g. WHEP's /whep/...): true when
 * it answered the request, false to leave it to the next route.
 */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** What /healthz reports: each part's name and whether it is up, with a detail. */
export interface HealthPart {
  name: string;
  ok: boolean;
  /** Shown only to clients that may read figures (access.ts): it may name devices or addresses. */
  detail?: string;
}

/** One listening socket: plain HTTP, or HTTPS with `tls`. */
export interface HttpListener {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
}

export interface HttpServerOptions {
  listeners: readonly HttpListener[];
  /** Folder of the built web viewer; null serves a page explaining how to build it. */
  viewerRoot: string | null;
  health: () => HealthPart[];
  metrics: MetricsRegistry;
  /** Tokens, the /metrics rule and allowed origins; default: loopback only, no tokens. */
  access?: HttpAccess;
  /** Connections open at once per client address, all listeners together (address-cap.ts); default 16. */
  maxConnectionsPerAddress?: number;
}

/**
 * Slow or idle clients must not hold sockets: a request's headers within
 * 10 s, the whole request within 10 s, an idle connection closed after 10 s
 * (upgraded /mqtt sockets excepted: `ws` clears their timeout), a TLS
 * handshake within 10 s. Connections per listener are capped, and per
 * client address across the listeners (address-cap.ts).
 *
 * Node 20 checks the header and request timeouts only every
 * `connectionsCheckingInterval` (30 s by default), so a client trickling
 * header bytes kept its socket up to 40 s; and an HTTPS socket gets the idle
 * timeout only once its handshake is done (tls.Server's own
 * `handshakeTimeout` is 120 s by default).
 */
const HEADERS_TIMEOUT_MS = 10_000;
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
const IDLE_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_MS = 5_000;
export const MAX_HTTP_CONNECTIONS = 128;

/**
 * The gateway's web ports (plain HTTP on loopback, HTTPS on the LAN, same
 * content): the viewer at `/`, `/healthz`, `/metrics`. MQTT over WebSocket at
 * `/mqtt` is attached to each of `servers` by the broker, with `mqttUpgradeCheck`.
 */
export class HttpServer extends EventEmitter<{ error: [Error] }> {
  readonly servers: readonly Server[];
  private readonly access: HttpAccess;
  private closed = false;
  private readonly routes: HttpRoute[] = [];
  private readonly cap: AddressCap;
  private readonly tlsServers: TlsServer[] = [];

  constructor(private readonly options: HttpServerOptions) {
    super();
    this.access = options.access ?? LOOPBACK_ONLY;
    this.cap = new AddressCap(options.maxConnectionsPerAddress);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`internal error: ${(err as Error).message}\n`);
      });
    };
    this.servers = options.listeners.map((listener) => {
      const timeouts = { connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS };
      let server: Server;
      if (listener.tls) {
        const https = createHttpsServer(
          {
            ...timeouts,
            cert: listener.tls.cert,
            key: listener.tls.key,
            handshakeTimeout: HEADERS_TIMEOUT_MS,
          },
          handler,
        );
        this.tlsServers.push(https);
        server = https;
      } else {
        server = createServer(timeouts, handler);
      }
      server.headersTimeout = HEADERS_TIMEOUT_MS;
      server.requestTimeout = HEADERS_TIMEOUT_MS;
      server.timeout = IDLE_TIMEOUT_MS;
      // Viewers keep nothing open here but /mqtt sockets; idle HTTP sockets
      // must not delay shutdown.
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      server.maxConnections = MAX_HTTP_CONNECTIONS;
      // Before http's (or tls's) own 'connection' listener: a refused socket
      // is closed before a parser or a TLS session is set up for it. A plain
      // close, not a 503: on the HTTPS port nothing can be said before the
      // handshake, and a client flooding us does not read the answer.
      server.prependListener("connection", (socket: Socket) => {
        if (!this.cap.admit(socket)) socket.destroy();
      });
      // net.Server (Node >= 18.6) says when maxConnections dropped one.
      server.on("drop", () => this.cap.countFull());
      return server;
    });
  }

  /** Connections refused by the per-address and per-port caps, for /metrics. */
  get connectionStats(): ConnectionCapStats {
    return this.cap.stats;
  }

  /**
   * Serves a new certificate and key on the HTTPS listeners from the next
   * handshake on (a renewed one, tls-renewal.ts); connections open keep
   * theirs. No restart.
   */
  setTls(tls: { cert: string; key: string }): void {
    for (const server of this.tlsServers) server.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  /** Adds a route, tried in the order added, after /healthz and /metrics and before the viewer's files. */
  addRoute(route: HttpRoute): void {
    this.routes.push(route);
  }

  /** The first (plain) server: kept for callers that serve one port. */
  get server(): Server {
    const first = this.servers[0];
    if (!first) throw new Error("HttpServer has no listener");
    return first;
  }

  /** Refuses a /mqtt upgrade from a foreign Origin (access.ts); for EmbeddedBroker.attachTo. */
  readonly mqttUpgradeCheck = (req: IncomingMessage): string | undefined =>
    originRefusal(req, this.access);

  /** Listens on every listener; resolves with their addresses, in order. */
  async listen(): Promise<AddressInfo[]> {
    const addresses: AddressInfo[] = [];
    for (const [i, server] of this.servers.entries()) {
      const listener = this.options.listeners[i];
      if (!listener) continue;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => {
          reject(
            new Error(
              `cannot listen on ${listener.tls ? "https" : "http"}://${listener.host}:${listener.port}: ${err.message}`,
              { cause: err },
            ),
          );
        };
        server.once("error", onError);
        server.listen(listener.port, listener.host, () => {
          server.off("error", onError);
          server.on("error", (err) => this.emit("error", err));
          resolve();
        });
      });
      addresses.push(server.address() as AddressInfo);
    }
    return addresses;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/healthz") return this.healthz(req, res);
    if (path === "/metrics") return this.metrics(req, res);
    for (const route of this.routes) if (await route(req, res)) return;
    if (this.options.viewerRoot && (await serveStatic(this.options.viewerRoot, req, res))) return;
    if (path === "/" && !this.options.viewerRoot) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
      res.end("The web viewer is not built: run `make build` (or `make run`).\n");
      return;
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("not found\n");
  }

  private async metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(await mayReadFigures(req, this.access))) {
      res.writeHead(401, {
        "content-type": "text/plain; charset=utf-8",
        "www-authenticate": 'Bearer realm="camgw"',
      });
      res.end(
        "/metrics needs a viewer's token (Authorization: Bearer <token>; camgw viewer add)\n",
      );
      return;
    }
    res.writeHead(200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
    res.end(this.options.metrics.render());
  }

  /**
   * Anyone may ask whether the gateway is up, part by part; only a client
   * that may read figures gets the details (a source's device path, a
   * broker's address).
   */
  private async healthz(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parts = this.options.health();
    const ok = parts.every((p) => p.ok);
    const details = await mayReadFigures(req, this.access);
    const body = {
      status: ok ? "ok" : "down",
      down: parts.filter((p) => !p.ok).map((p) => p.name),
      parts: Object.fromEntries(
        parts.map((p) => [
          p.name,
          { ok: p.ok, ...(details && p.detail ? { detail: p.detail } : {}) },
        ]),
      ),
    };
    res.writeHead(ok ? 200 : 503, {
      "content-type": "application/json",
      "cache-control": "no-store",
    });
    res.end(JSON.stringify(body) + "\n");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.servers.map((server) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => {
          if (!server.listening) resolve();
          else server.close(() => resolve());
        });
      }),
    );
  }
}
