import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MetricsRegistry } from "./metrics.js";
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
  detail?: string;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Folder of the built web viewer; null serves a page explaining how to build it. */
  viewerRoot: string | null;
  health: () => HealthPart[];
  metrics: MetricsRegistry;
}

/**
 * The gateway's one HTTP port: the viewer at `/`, `/healthz`, `/metrics`.
 * MQTT over WebSocket at `/mqtt` is attached to `server` by the broker.
 */
export class HttpServer extends EventEmitter<{ error: [Error] }> {
  readonly server: Server;
  private closed = false;
  private readonly routes: HttpRoute[] = [];

  constructor(private readonly options: HttpServerOptions) {
    super();
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`internal error: ${(err as Error).message}\n`);
      });
    });
    // Viewers keep nothing open here but /mqtt sockets; idle HTTP sockets
    // must not delay shutdown.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Adds a route, tried in the order added, after /healthz and /metrics and before the viewer's files. */
  addRoute(route: HttpRoute): void {
    this.routes.push(route);
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once("error", onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", onError);
        this.server.on("error", (err) => this.emit("error", err));
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/healthz") return this.healthz(res);
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(this.options.metrics.render());
      return;
    }
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

  private healthz(res: ServerResponse): void {
    const parts = this.options.health();
    const ok = parts.every((p) => p.ok);
    const body = {
      status: ok ? "ok" : "down",
      down: parts.filter((p) => !p.ok).map((p) => p.name),
      parts: Object.fromEntries(
        parts.map((p) => [p.name, { ok: p.ok, ...(p.detail ? { detail: p.detail } : {}) }]),
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
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
