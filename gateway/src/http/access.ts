/**
 * Who may use what on the gateway's HTTP(S) port (docs/security.md):
 *
 * - the page and `/healthz` (ok / down per part) are open to anyone;
 * - `/metrics` and the details of `/healthz` need a viewer's bearer token,
 *   or (`metrics-access: loopback`, the default) a client on this machine;
 * - `/mqtt` (the broker, which asks for its own login) takes WebSocket
 *   upgrades only from the page's own origin, from an origin in
 *   `allowed-origins`, or from clients that send no Origin (not a browser:
 *   every browser sends one with a WebSocket upgrade, RFC 6455 4.1), so no
 *   other web page a person opens can reach it.
 */
import type { IncomingMessage } from "node:http";

export interface HttpAccess {
  /** The account a bearer token belongs to; undefined for no valid token. */
  verifyToken(token: string): Promise<string | undefined>;
  /** "loopback": local clients need no token for /metrics; "token": everyone needs one. */
  readonly metrics: "loopback" | "token";
  /** Origins besides the page's own allowed to open /mqtt, e.g. "https://cams.example.net". */
  readonly allowedOrigins: readonly string[];
}

/** Nobody but a local client, no token accepted: what a server without accounts allows. */
export const LOOPBACK_ONLY: HttpAccess = {
  verifyToken: () => Promise.resolve(undefined),
  metrics: "loopback",
  allowedOrigins: [],
};

/** True when the request comes from this machine (127.0.0.0/8, ::1, or v4-mapped loopback). */
export function fromLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? "";
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

/** The bearer token of an `Authorization: Bearer <token>` header (RFC 6750 2.1). */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
  return m?.[1];
}

/** Whether the request may read private figures (/metrics, /healthz details). */
export async function mayReadFigures(req: IncomingMessage, access: HttpAccess): Promise<boolean> {
  if (access.metrics === "loopback" && fromLoopback(req)) return true;
  const token = bearerToken(req);
  return token !== undefined && (await access.verifyToken(token)) !== undefined;
}

/** Why a WebSocket upgrade to /mqtt is refused for its Origin; undefined when it is not. */
export function originRefusal(req: IncomingMessage, access: HttpAccess): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `Origin ${JSON.stringify(origin)} is not a URL`;
  }
  if (host !== "" && host === req.headers.host) return undefined;
  if (access.allowedOrigins.includes(origin)) return undefined;
  return `Origin ${origin} may not use this broker (allowed: this page's own origin${
    access.allowedOrigins.length ? `, ${access.allowedOrigins.join(", ")}` : ""
  }; config key allowed-origins)`;
}
