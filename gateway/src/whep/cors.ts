import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Cross-origin requests to WHEP (draft-ietf-wish-whep section 4.2: endpoints
 * MUST answer OPTIONS for CORS, as the Fetch standard defines it), for
 * players served from another origin than the gateway. Only origins on the
 * allow-list (config `whep-cors-origins`; "*" allows any) get CORS headers;
 * the gateway's own origin needs none. Players send the token in the
 * Authorization header, never as a cookie, so credentials mode stays off.
 */

/** Headers a player must be able to read from our responses. */
const EXPOSED = "Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After, WWW-Authenticate";

export type CorsVerdict =
  /** No Origin header, or the gateway's own origin: not a cross-origin request. */
  | { kind: "same-origin" }
  | { kind: "allowed"; origin: string }
  | { kind: "refused"; origin: string };

export function judgeOrigin(req: IncomingMessage, allowed: readonly string[]): CorsVerdict {
  const origin = req.headers.origin;
  if (origin === undefined) return { kind: "same-origin" };
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    return { kind: "refused", origin };
  }
  if (host !== "" && host === req.headers.host) return { kind: "same-origin" };
  if (allowed.includes("*") || allowed.includes(origin)) return { kind: "allowed", origin };
  return { kind: "refused", origin };
}

/** Headers for an actual (non-preflight) response to an allowed origin. */
export function applyCors(res: ServerResponse, verdict: CorsVerdict): void {
  res.setHeader("Vary", "Origin");
  if (verdict.kind !== "allowed") return;
  res.setHeader("Access-Control-Allow-Origin", verdict.origin);
  res.setHeader("Access-Control-Expose-Headers", EXPOSED);
}

/** Is this OPTIONS a CORS preflight (Fetch standard, "CORS-preflight request")? */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
}

/** Headers for a preflight from an allowed origin: the methods and headers WHEP uses. */
export function applyPreflight(res: ServerResponse, verdict: CorsVerdict, methods: string): void {
  applyCors(res, verdict);
  if (verdict.kind !== "allowed") return;
  res.setHeader("Access-Control-Allow-Methods", methods);
  res.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
  res.setHeader("Access-Control-Max-Age", "600");
}
