import type { IncomingMessage, ServerResponse } from "node:http";
import { CamgwError, SignalingError } from "../errors.js";
import { KeyedRateLimiter, type RateLimit } from "../signaling/rate-limit.js";
import type { IceCandidate } from "../signaling/messages.js";
import type { InboundSink } from "../signaling/viewer-transport.js";
import { applyCors, applyPreflight, isPreflight, judgeOrigin, type CorsVerdict } from "./cors.js";
import { BodyTooLarge, mediaType, readBody } from "./http-body.js";
import { iceServerLinks, type LinkIceServer } from "./link-header.js";
import {
  answerWithCandidates,
  iceCredentials,
  parseSdpFrag,
  restartAnswerFrag,
  restartOffer,
  SdpFragError,
  type SdpFrag,
} from "./sdp-frag.js";
import { bearerToken, type AuthorizedViewer, type WhepAuthorizer } from "./whep-auth.js";
import { newEtag, WhepSession } from "./whep-session.js";
import { WhepStats } from "./whep-stats.js";
import { HttpRefusal } from "../http/http-refusal.js";

/**
 * WHEP (draft-ietf-wish-whep-03) on the gateway's HTTP port:
 *
 *   POST    /whep/<stream>        application/sdp offer -> 201, answer with all
 *                                 our candidates, Location, ETag, Link (ICE servers)
 *   PATCH   /whep/<stream>/<id>   application/trickle-ice-sdpfrag (RFC 8840):
 *                                 candidates -> 204; new ice-ufrag/pwd (ICE
 *                                 restart, If-Match: "*") -> 200 with ours, new ETag
 *   DELETE  /whep/<stream>/<id>   ends the session now -> 200
 *   OPTIONS either                CORS preflight, or Accept-Post / Accept-Patch
 *   HEAD, GET either              200, Content-Type application/sdp, no body
 *
 * Every request but OPTIONS needs `Authorization: Bearer <token>`. The
 * protocol's rules are the signaling dispatcher's: a POST becomes an offer
 * message, a PATCH candidate messages (or, for an ICE restart, an offer for
 * the same session), a DELETE a bye, each carried by the session's
 * WhepSession (a ViewerTransport) into the same dispatcher and session
 * manager as MQTT viewers, so there is one viewer limit, one liveness rule,
 * one key frame on join.
 */

export interface WhepEndpointOptions {
  /** Where offers, candidates and byes go: the signaling dispatcher. */
  sink: InboundSink;
  authorizer: WhepAuthorizer;
  /** Is there a stream with this id? */
  hasStream: (stream: string) => boolean;
  /** The STUN/TURN servers to give players (Link headers), asked per POST (TURN credentials may be short-lived). */
  iceServers: (viewer: AuthorizedViewer) => readonly LinkIceServer[];
  /** Origins allowed to call from a browser ("*": any). */
  corsOrigins?: readonly string[];
  /** How long to wait for our candidates after the answer (default 3000 ms). */
  gatherTimeoutMs?: number;
  /** POSTs per account (default burst 8, 2 per second); over it: 429. */
  postRate?: RateLimit;
  /** Requests with a missing or bad token per client address (default burst 20, 1 per second); over it: 429. */
  authFailureRate?: RateLimit;
}

/** Path prefix of every WHEP URL. */
export const WHEP_PATH = "/whep";

/** Largest offer accepted: the signaling protocol's 64 KiB message holds it as JSON. */
const MAX_OFFER_BYTES = 32 * 1024;
/** Largest PATCH fragment accepted. */
const MAX_FRAG_BYTES = 16 * 1024;
/** Seconds a player should wait after 503 (viewer limit) before trying again. */
const BUSY_RETRY_AFTER_S = 10;

const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;
const RESOURCE_ID = /^[A-Za-z0-9_-]{16,64}$/;

const ENDPOINT_METHODS = "OPTIONS, POST, HEAD, GET";
const SESSION_METHODS = "OPTIONS, PATCH, DELETE, HEAD, GET";
const SDP = "application/sdp";
const SDPFRAG = "application/trickle-ice-sdpfrag";

export class WhepEndpoint {
  readonly stats = new WhepStats();
  readonly #options: WhepEndpointOptions;
  readonly #sessions = new Map<string, WhepSession>();
  readonly #posts: KeyedRateLimiter;
  readonly #authFailures: KeyedRateLimiter;
  #closed = false;

  constructor(options: WhepEndpointOptions) {
    this.#options = options;
    this.#posts = new KeyedRateLimiter(options.postRate ?? { burst: 8, perSecond: 2 });
    this.#authFailures = new KeyedRateLimiter(
      options.authFailureRate ?? { burst: 20, perSecond: 1 },
    );
  }

  /** Live WHEP sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Handles the request if it is for a WHEP URL (the HTTP server's route
   * hook); false leaves it to the next route.
   */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path !== WHEP_PATH && !path.startsWith(`${WHEP_PATH}/`)) return false;
    const parts = path.slice(WHEP_PATH.length + 1).split("/");
    const method = req.method ?? "GET";
    this.stats.countRequest(method);
    const cors = judgeOrigin(req, this.#options.corsOrigins ?? []);
    try {
      if (this.#closed) throw new HttpRefusal(503, "the gateway is shutting down");
      const [stream, resourceId, ...rest] = parts;
      if (stream === undefined || !STREAM_ID.test(stream) || rest.length > 0) {
        throw new HttpRefusal(404, "no such WHEP endpoint");
      }
      if (resourceId === undefined) await this.#endpoint(req, res, cors, stream);
      else await this.#session(req, res, cors, stream, resourceId);
    } catch (error) {
      this.#refuse(req, res, cors, error);
    }
    return true;
  };

  /** Ends nothing (the session manager's close ends the sessions); refuses new requests. */
  close(): void {
    this.#closed = true;
  }

  async #endpoint(
    req: IncomingMessage,
    res: ServerResponse,
    cors: CorsVerdict,
    stream: string,
  ): Promise<void> {
    const method = req.method ?? "GET";
    if (method === "OPTIONS") return this.#options_(req, res, cors, ENDPOINT_METHODS);
    if (cors.kind === "refused") throw new HttpRefusal(403, `origin ${cors.origin} is not allowed`);
    if (method !== "POST" && method !== "HEAD" && method !== "GET") {
      throw new HttpRefusal(405, `${method} is not allowed here`, { Allow: ENDPOINT_METHODS });
    }
    const viewer = await this.#authorize(req);
    if (!this.#options.hasStream(stream)) throw new HttpRefusal(404, `no stream named "${stream}"`);
    if (method !== "POST") {
      // draft-ietf-wish-whep section 4.1 (discoverability): HEAD and GET say
      // "this takes SDP offers", with no body.
      applyCors(res, cors);
      res.writeHead(200, { "Content-Type": SDP, "Content-Length": "0", "Accept-Post": SDP });
      res.end();
      return;
    }
    if (mediaType(req.headers["content-type"]) !== SDP) {
      throw new HttpRefusal(415, `the offer must be ${SDP}`, { "Accept-Post": SDP });
    }
    const offer = await this.#body(req, MAX_OFFER_BYTES);
    if (!this.#posts.take(viewer.account)) {
      throw new HttpRefusal(429, "too many offers; retry in a second", { "Retry-After": "1" });
    }
    const session = new WhepSession(viewer.account, stream);
    session.offer = offer;
    session.remoteUfrag = iceCredentials(offer)?.ufrag;
    session.firstMid = /^a=mid:(\S+)/m.exec(offer)?.[1];
    const exchange = await session.exchange(
      this.#options.sink,
      offer,
      this.#options.gatherTimeoutMs ?? 3000,
    );
    if (session.ended) throw new HttpRefusal(500, "the session ended before it was answered");
    this.#sessions.set(session.resourceId, session);
    session.once("ended", () => this.#sessions.delete(session.resourceId));
    this.stats.created++;
    const answer = answerWithCandidates(exchange.answer, exchange.candidates, exchange.complete);
    const links = iceServerLinks(this.#options.iceServers(viewer));
    applyCors(res, cors);
    res.setHeader("Link", links);
    res.writeHead(201, {
      "Content-Type": SDP,
      Location: `${WHEP_PATH}/${stream}/${session.resourceId}`,
      ETag: session.etag,
      "Accept-Patch": SDPFRAG,
      "Cache-Control": "no-store",
    });
    res.end(answer);
  }

  async #session(
    req: IncomingMessage,
    res: ServerResponse,
    cors: CorsVerdict,
    stream: string,
    resourceId: string,
  ): Promise<void> {
    const method = req.method ?? "GET";
    if (method === "OPTIONS") return this.#options_(req, res, cors, SESSION_METHODS);
    if (cors.kind === "refused") throw new HttpRefusal(403, `origin ${cors.origin} is not allowed`);
    if (!["PATCH", "DELETE", "HEAD", "GET"].includes(method)) {
      throw new HttpRefusal(405, `${method} is not allowed here`, { Allow: SESSION_METHODS });
    }
    const viewer = await this.#authorize(req);
    const session = RESOURCE_ID.test(resourceId) ? this.#sessions.get(resourceId) : undefined;
    // Another account's session is as unknown as one that never was.
    if (!session || session.stream !== stream || session.identity.account !== viewer.account) {
      throw new HttpRefusal(404, "no such WHEP session (it may have ended)");
    }
    if (method === "DELETE") {
      session.delete(this.#options.sink);
      this.#sessions.delete(resourceId);
      this.stats.deleted++;
      applyCors(res, cors);
      res.writeHead(200, { "Content-Length": "0" });
      res.end();
      return;
    }
    if (method !== "PATCH") {
      applyCors(res, cors);
      res.writeHead(200, { "Content-Type": SDP, "Content-Length": "0", "Accept-Patch": SDPFRAG });
      res.end();
      return;
    }
    if (mediaType(req.headers["content-type"]) !== SDPFRAG) {
      throw new HttpRefusal(415, `a PATCH must be ${SDPFRAG}`, { "Accept-Patch": SDPFRAG });
    }
    const body = await this.#body(req, MAX_FRAG_BYTES);
    let frag: SdpFrag;
    try {
      frag = parseSdpFrag(body);
    } catch (error) {
      if (error instanceof SdpFragError) throw new HttpRefusal(400, error.message);
      throw error;
    }
    const ifMatch = req.headers["if-match"];
    const restart = frag.ufrag !== undefined && frag.ufrag !== session.remoteUfrag;
    // RFC 9110 section 13.1.1: "*" matches any current ICE session. A PATCH
    // without If-Match is taken as trickle for the current one: the spec asks
    // for 428, but whip-whep 1.2.0 (the editors' own player) never sends the
    // ETag it got in the 201; the fragment's ufrag, when given, still keeps a
    // stale trickle from a past ICE session out (RFC 8840 section 4.4).
    if (ifMatch !== undefined && !etagMatches(ifMatch, session.etag)) {
      throw new HttpRefusal(412, "If-Match does not name the current ICE session");
    }
    if (restart) {
      await this.#restart(res, cors, session, frag);
      return;
    }
    this.#trickle(session, frag);
    this.stats.trickled++;
    applyCors(res, cors);
    res.writeHead(204);
    res.end();
  }

  #trickle(session: WhepSession, frag: SdpFrag): void {
    const candidates: (IceCandidate | null)[] = frag.candidates.map((c) => ({
      candidate: c.candidate,
      sdpMid: c.sdpMid ?? session.firstMid ?? null,
      ...(c.sdpMid === undefined && session.firstMid === undefined ? { sdpMLineIndex: 0 } : {}),
      ...(frag.ufrag !== undefined ? { usernameFragment: frag.ufrag } : {}),
    }));
    if (frag.endOfCandidates) candidates.push(null);
    session.trickle(this.#options.sink, candidates);
  }

  /**
   * An ICE restart (draft-ietf-wish-whep section 4.3.3): the first offer with
   * the player's new credentials and candidates goes to the session host as
   * an offer for the same session, which restarts ICE on the same peer
   * connection (webrtc/renegotiation.ts); the reply is our new credentials and
   * candidates, and a new ETag. A failed restart leaves the session as it was.
   */
  async #restart(
    res: ServerResponse,
    cors: CorsVerdict,
    session: WhepSession,
    frag: SdpFrag,
  ): Promise<void> {
    if (frag.ufrag === undefined || frag.pwd === undefined) {
      throw new HttpRefusal(400, "an ICE restart needs both a=ice-ufrag and a=ice-pwd");
    }
    if (session.busy) throw new HttpRefusal(409, "another offer or ICE restart is under way");
    const offer = restartOffer(session.offer, { ...frag, ufrag: frag.ufrag, pwd: frag.pwd });
    const exchange = await session.exchange(
      this.#options.sink,
      offer,
      this.#options.gatherTimeoutMs ?? 3000,
    );
    session.offer = offer;
    session.remoteUfrag = frag.ufrag;
    session.etag = newEtag();
    this.stats.iceRestarts++;
    const answer = answerWithCandidates(exchange.answer, exchange.candidates, exchange.complete);
    applyCors(res, cors);
    res.writeHead(200, {
      "Content-Type": SDPFRAG,
      ETag: session.etag,
      "Cache-Control": "no-store",
    });
    res.end(restartAnswerFrag(answer));
  }

  #options_(req: IncomingMessage, res: ServerResponse, cors: CorsVerdict, methods: string): void {
    if (isPreflight(req)) {
      if (cors.kind === "refused") {
        throw new HttpRefusal(403, `origin ${cors.origin} is not allowed`);
      }
      applyPreflight(res, cors, methods);
      res.writeHead(204);
      res.end();
      return;
    }
    // A plain OPTIONS: what the resource takes (RFC 9725 section 4.2,
    // Accept-Post; RFC 5789 section 3.1, Accept-Patch). No ICE servers here:
    // they come with the 201 (RFC 9725 section 4.6 discourages OPTIONS for it).
    applyCors(res, cors);
    res.writeHead(204, {
      Allow: methods,
      ...(methods === ENDPOINT_METHODS ? { "Accept-Post": SDP } : { "Accept-Patch": SDPFRAG }),
    });
    res.end();
  }

  async #authorize(req: IncomingMessage): Promise<AuthorizedViewer> {
    const address = req.socket.remoteAddress ?? "unknown";
    const token = bearerToken(req.headers.authorization) ?? queryToken(req.url);
    const { authorizer } = this.#options;
    const viewer = token === undefined ? null : await authorizer.authorize(token);
    if (viewer) return viewer;
    if (!this.#authFailures.take(address)) {
      throw new HttpRefusal(429, "too many requests without a valid token", { "Retry-After": "5" });
    }
    // RFC 6750 section 3: the challenge, with error="invalid_token" when a token was sent.
    const challenge =
      token === undefined ? 'Bearer realm="camgw"' : 'Bearer realm="camgw", error="invalid_token"';
    const why =
      authorizer.disabledReason ??
      (token === undefined ? "this needs Authorization: Bearer <token>" : "the token is not valid");
    throw new HttpRefusal(401, why, { "WWW-Authenticate": challenge });
  }

  async #body(req: IncomingMessage, limit: number): Promise<string> {
    try {
      return await readBody(req, limit);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        throw new HttpRefusal(413, `the body is over ${limit} bytes`, { Connection: "close" });
      }
      throw error;
    }
  }

  /** Answers a refused request: the status the error maps to, its text, and a problem body (RFC 9457). */
  #refuse(req: IncomingMessage, res: ServerResponse, cors: CorsVerdict, error: unknown): void {
    const refusal = toRefusal(error);
    this.stats.countRefusal(refusal.status);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    applyCors(res, cors);
    const body = JSON.stringify({
      type: "about:blank",
      title: refusal.message,
      status: refusal.status,
    });
    res.writeHead(refusal.status, {
      ...refusal.headers,
      "Content-Type": "application/problem+json",
      "Content-Length": Buffer.byteLength(body),
      "Cache-Control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }
}

/**
 * How a refusal from signaling reads in HTTP (draft-ietf-wish-whep section
 * 4.1, RFC 9110): malformed SDP 400; nothing we can send (no video, no H.264
 * with packetization-mode=1) 406 (a problem body, not a counter-offer: a
 * draft-03 player tells the two apart by the Content-Type); the viewer limit
 * 503 with Retry-After; anything else 500.
 */
function toRefusal(error: unknown): HttpRefusal {
  if (error instanceof HttpRefusal) return error;
  if (error instanceof SignalingError) {
    switch (error.code) {
      case "bad-request":
        return new HttpRefusal(400, error.message);
      case "unsupported":
        return new HttpRefusal(406, error.message);
      case "busy":
        return new HttpRefusal(503, error.message, { "Retry-After": String(BUSY_RETRY_AFTER_S) });
      case "not-found":
        return new HttpRefusal(404, error.message);
      case "unauthorized":
        return new HttpRefusal(403, error.message);
      case "internal":
        return new HttpRefusal(500, "internal error");
    }
  }
  if (error instanceof CamgwError) return new HttpRefusal(500, "internal error");
  return new HttpRefusal(500, "internal error");
}

/**
 * The token of an `access_token` query parameter (RFC 6750 section 2.3),
 * for players that cannot send an Authorization header: go2rtc's WHEP
 * client (and so Home Assistant through it) sends none. The header wins
 * when both are there.
 */
function queryToken(url: string | undefined): string | undefined {
  const value = new URL(url ?? "/", "http://x").searchParams.get("access_token");
  return value === null || value === "" ? undefined : bearerToken(`Bearer ${value}`);
}

/** If-Match (RFC 9110 section 13.1.1): "*" or a list of entity-tags, compared strongly. */
function etagMatches(header: string, etag: string): boolean {
  const value = header.trim();
  // Some clients quote the wildcard; "*" is never one of our entity-tags.
  if (value === "*" || value === '"*"') return true;
  return value
    .split(",")
    .map((t) => t.trim())
    .some((t) => t === etag);
}
