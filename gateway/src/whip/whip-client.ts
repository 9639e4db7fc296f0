import { EgressError } from "../errors.js";
import { iceServersFromLinks, parseLinks, type LinkIceServer } from "../whep/link-header.js";

/**
 * The HTTP half of a WHIP client (RFC 9725 section 4): OPTIONS for the
 * server's ICE servers, POST the offer, DELETE the session. No WebRTC here;
 * whip-egress.ts holds the session.
 *
 *   POST <endpoint>  Content-Type: application/sdp, Authorization: Bearer
 *     -> 201 Created, Location (the session URL), ETag, Link rel="ice-server"
 *   DELETE <Location> -> 200
 */

export interface WhipSessionResource {
  /** The session URL, resolved against the endpoint URL. */
  location: string;
  etag: string | undefined;
  answer: string;
  /** ICE servers the server gave in Link headers (RFC 9725 section 4.6). */
  iceServers: LinkIceServer[];
}

/** How long one HTTP request may take before the attempt counts as failed. */
const REQUEST_TIMEOUT_MS = 10_000;

function headers(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra };
}

/** Where the endpoint is, for logs and errors: no path (it may hold a stream key), no query. */
export function endpointName(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

async function request(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    // fetch follows 307/308 with the method and body kept (RFC 9725 section
    // 4.5 asks clients to follow 307 for load balancing).
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new EgressError(
      "unreachable",
      `${what} to ${endpointName(url)} failed: ${error instanceof Error ? error.message : String(error)}`,
      { endpoint: endpointName(url) },
      { cause: error },
    );
  }
}

/**
 * ICE servers the endpoint offers before the POST, for clients that cannot
 * take new ones after making their offer (RFC 9725 section 4.6): werift
 * gathers when the offer is made, so servers that come only with the 201
 * are used from the next attempt on. Any failure here gives none.
 */
export async function whipIceServers(url: string, token: string): Promise<LinkIceServer[]> {
  try {
    const res = await request(url, { method: "OPTIONS", headers: headers(token) }, "OPTIONS");
    await res.body?.cancel();
    if (!res.ok) return [];
    return iceServersFromLinks(parseLinks(linkValues(res)));
  } catch {
    return [];
  }
}

/** POSTs the offer; resolves with the session, or rejects with an EgressError. */
export async function whipPost(
  url: string,
  token: string,
  offer: string,
): Promise<WhipSessionResource> {
  const context = { endpoint: endpointName(url) };
  const res = await request(
    url,
    { method: "POST", body: offer, headers: headers(token, { "Content-Type": "application/sdp" }) },
    "POST",
  );
  const body = await res.text().catch(() => "");
  if (res.status !== 201) {
    const why = `${endpointName(url)} answered the offer with ${res.status} ${res.statusText}${body ? `: ${body.slice(0, 200)}` : ""}`;
    // A 5xx or 429 may pass (server starting, overloaded); a 4xx will not by itself.
    const code = res.status >= 500 || res.status === 429 ? "unreachable" : "refused";
    throw new EgressError(code, why, { ...context, status: res.status });
  }
  const location = res.headers.get("location");
  if (!location) throw new EgressError("protocol", "201 without a Location header", context);
  if (!body.startsWith("v=0"))
    throw new EgressError("protocol", "201 without an SDP answer", context);
  return {
    location: new URL(location, res.url || url).href,
    etag: res.headers.get("etag") ?? undefined,
    answer: body,
    iceServers: iceServersFromLinks(parseLinks(linkValues(res))),
  };
}

/** Ends the session on the server (RFC 9725 section 4.2); resolves with the status, or undefined if unreachable. */
export async function whipDelete(location: string, token: string): Promise<number | undefined> {
  try {
    const res = await request(location, { method: "DELETE", headers: headers(token) }, "DELETE");
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined;
  }
}

/** Every Link field value (fetch joins repeated fields with ", ", which parseLinks splits). */
function linkValues(res: Response): string[] {
  const value = res.headers.get("link");
  return value ? [value] : [];
}
