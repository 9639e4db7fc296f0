/**
 * `GET /api/snapshot.jpg` on the gateway's HTTP port (docs/snapshots.md):
 * the camera's next frame as JPEG, for a viewer's bearer token (the same
 * tokens WHEP takes: `Authorization: Bearer <token>`, or `access_token` in
 * the query for clients that cannot send a header, RFC 6750 2.3).
 *
 * `?width=` scales it (an integer from 16 to the camera's width, else 400).
 * Each client (its account) may have one snapshot on its way and a few a
 * second (429 with Retry-After past it); the service caps snapshots at once
 * for everyone (503 with Retry-After). Neither ever touches a viewer's video:
 * the JPEG is made on a pool thread from a copy of one raw frame.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { SnapshotError } from "../errors.js";
import { KeyedRateLimiter, type RateLimit } from "../signaling/rate-limit.js";
import { bearerToken, type WhepAuthorizer } from "../whep/whep-auth.js";
import type { SnapshotRequest, SnapshotService } from "./snapshot-service.js";
import { HttpRefusal } from "../http/http-refusal.js";

export const SNAPSHOT_PATH = "/api/snapshot.jpg";

export interface SnapshotRouteOptions {
  service: Pick<SnapshotService, "take" | "sourceWidth">;
  /** Who may take one: the WHEP authorizer (viewer tokens, the shared whep-token). */
  authorizer: WhepAuthorizer;
  /** Snapshots per client; default burst 5, 2 per second. Over it: 429. */
  clientRate?: RateLimit;
  /** Requests without a valid token, per address; default burst 20, 1 per second. Over it: 429. */
  authFailureRate?: RateLimit;
}

export class SnapshotRoute {
  readonly #options: SnapshotRouteOptions;
  readonly #clients: KeyedRateLimiter;
  readonly #authFailures: KeyedRateLimiter;
  readonly #inFlight = new Set<string>();

  constructor(options: SnapshotRouteOptions) {
    this.#options = options;
    this.#clients = new KeyedRateLimiter(options.clientRate ?? { burst: 5, perSecond: 2 });
    this.#authFailures = new KeyedRateLimiter(
      options.authFailureRate ?? { burst: 20, perSecond: 1 },
    );
  }

  /** The HTTP server's route hook: true when it answered the request. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== SNAPSHOT_PATH) return false;
    try {
      const method = req.method ?? "GET";
      if (method !== "GET" && method !== "HEAD") {
        throw new HttpRefusal(405, `${method} is not allowed here`, { Allow: "GET, HEAD" });
      }
      const account = await this.#authorize(req, url);
      const request = this.#request(url);
      if (this.#inFlight.has(account) || !this.#clients.take(account)) {
        throw new HttpRefusal(429, "too many snapshots from this client; retry in a second", {
          "Retry-After": "1",
        });
      }
      this.#inFlight.add(account);
      let snap;
      try {
        snap = await this.#options.service.take(request);
      } finally {
        this.#inFlight.delete(account);
      }
      const age = Math.max(0, Math.round(Date.now() - snap.capturedAtMs));
      res.writeHead(200, {
        "Content-Type": "image/jpeg",
        "Content-Length": snap.jpeg.length,
        "Cache-Control": "no-store",
        // When the frame was captured, and how old it was when the answer left.
        "X-Camgw-Capture-Time": new Date(snap.capturedAtMs).toISOString(),
        "X-Camgw-Frame-Age-Ms": String(age),
      });
      res.end(method === "HEAD" ? undefined : snap.jpeg);
    } catch (error) {
      refuse(req, res, error);
    }
    return true;
  };

  async #authorize(req: IncomingMessage, url: URL): Promise<string> {
    const query = url.searchParams.get("access_token");
    const token =
      bearerToken(req.headers.authorization) ??
      (query === null || query === "" ? undefined : bearerToken(`Bearer ${query}`));
    const { authorizer } = this.#options;
    const viewer = token === undefined ? null : await authorizer.authorize(token);
    if (viewer) return viewer.account;
    if (!this.#authFailures.take(req.socket.remoteAddress ?? "unknown")) {
      throw new HttpRefusal(429, "too many requests without a valid token", { "Retry-After": "5" });
    }
    // RFC 6750 section 3: the challenge, with error="invalid_token" when a token was sent.
    const challenge =
      token === undefined ? 'Bearer realm="camgw"' : 'Bearer realm="camgw", error="invalid_token"';
    throw new HttpRefusal(
      401,
      token === undefined
        ? "a snapshot needs a viewer's token: Authorization: Bearer <token>"
        : "the token is not valid",
      { "WWW-Authenticate": challenge },
    );
  }

  #request(url: URL): SnapshotRequest {
    for (const key of url.searchParams.keys()) {
      if (key !== "width" && key !== "access_token") {
        throw new HttpRefusal(400, `unknown parameter "${key}" (only width)`);
      }
    }
    const raw = url.searchParams.getAll("width");
    if (raw.length === 0) return {};
    const max = this.#options.service.sourceWidth;
    const text = raw[0] ?? "";
    if (raw.length > 1 || !/^[0-9]{1,5}$/.test(text) || +text < 16 || +text > max) {
      throw new HttpRefusal(
        400,
        `width must be one integer from 16 to ${max} (the camera's width), got ${JSON.stringify(raw.join(","))}`,
      );
    }
    return { width: Number(text) };
  }
}

const STATUS: Record<SnapshotError["code"], number> = {
  "bad-request": 400,
  unsupported: 501,
  busy: 503,
  unavailable: 503,
};

function refuse(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  let status = 500;
  let message = "internal error";
  let headers: Readonly<Record<string, string>> = {};
  if (error instanceof HttpRefusal) {
    ({ status, message, headers } = error);
  } else if (error instanceof SnapshotError) {
    status = STATUS[error.code];
    message = error.message;
    if (status === 503) headers = { "Retry-After": "1" };
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ type: "about:blank", title: message, status });
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/problem+json",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
