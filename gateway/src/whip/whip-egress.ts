import { EventEmitter } from "node:events";
import { CamgwError, EgressError } from "../errors.js";
import { backoffDelay, type BackoffOptions } from "../signaling/mqtt-connection.js";
import type { OutboundRequest, OutboundSession } from "../webrtc/outbound-session.js";
import type { LinkIceServer } from "../whep/link-header.js";
import { endpointName, whipDelete, whipIceServers, whipPost } from "./whip-client.js";
import { randomBytes } from "node:crypto";

/**
 * Keeps one stream pushed to a WHIP server (RFC 9725) for as long as it is
 * open: a media server that fans it out to more viewers than a board can
 * serve (docs/scale.md). The push is an outbound session of the session
 * manager, one more sink on the stream's fan-out, so it shares the encoder
 * with local viewers (no second encode) and keeps the camera running.
 *
 *   attempt: OPTIONS (ICE servers) -> offer (all candidates) -> POST -> 201
 *            -> answer applied -> ICE + DTLS -> pushing
 *   the session ends (server gone: consent expires, ICE fails), or an
 *   attempt fails -> DELETE what is left -> retry after 0.5 s doubling to
 *   30 s (jittered), reset once a push connected
 *   close() -> DELETE the session (RFC 9725 section 4.2), end it
 *
 * ICE servers from the server's Link headers are used: those of a plain
 * OPTIONS at once, those of a 201 from the next attempt (werift gathers when
 * it makes the offer, before the 201 arrives).
 */

/** What the egress needs of the session manager. */
export interface OutboundHost {
  openOutbound(request: OutboundRequest): Promise<OutboundSession>;
}

export interface WhipEgressOptions {
  /** The WHIP endpoint URL (config whip-url). */
  url: string;
  /** Bearer token (config whip-token); empty sends none. */
  token: string;
  /** The stream to push (default "main"). */
  stream?: string;
  host: OutboundHost;
  backoff?: BackoffOptions;
  /** How long ICE and DTLS may take after the answer (default 15 s). */
  connectTimeoutMs?: number;
}

export type WhipEgressState = "connecting" | "pushing" | "waiting" | "closed";

export interface WhipEgressEvents {
  /** The push is up (DTLS connected). */
  pushing: [];
  /** An attempt failed or a push ended; the next attempt is in `retryInMs`. */
  failed: [error: EgressError, retryInMs: number];
}

export interface WhipEgressStats {
  attempts: number;
  connects: number;
  failures: number;
}

export class WhipEgress extends EventEmitter<WhipEgressEvents> {
  readonly stats: WhipEgressStats = { attempts: 0, connects: 0, failures: 0 };
  readonly #options: WhipEgressOptions;
  readonly #stream: string;
  #state: WhipEgressState = "waiting";
  #failuresInARow = 0;
  #timer: NodeJS.Timeout | undefined;
  #session: OutboundSession | undefined;
  /** The server's session URL while we have one. */
  #location: string | undefined;
  /** ICE servers the last 201 named, for the next attempt. */
  #serverIce: LinkIceServer[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: WhipEgressOptions) {
    super();
    this.#options = options;
    this.#stream = options.stream ?? "main";
  }

  get state(): WhipEgressState {
    return this.#state;
  }

  /** The endpoint's origin, for logs (the URL's path may hold a stream key). */
  get endpoint(): string {
    return endpointName(this.#options.url);
  }

  /** Starts pushing (first attempt now). */
  start(): void {
    if (this.#state !== "waiting" || this.#timer || this.#closing) return;
    void this.#attempt();
  }

  /** Stops: DELETEs the server's session (waiting at most a few seconds), ends ours; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = "closed";
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#teardown();
    this.removeAllListeners();
  }

  async #attempt(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed()) return;
    this.#state = "connecting";
    this.stats.attempts++;
    const { url, token, host } = this.#options;
    try {
      const offered = await whipIceServers(url, token);
      const iceServers = dedupe([...offered, ...this.#serverIce]);
      const session = await host.openOutbound({
        viewerId: "whip",
        session: randomBytes(9).toString("base64url"),
        stream: this.#stream,
        transport: "whip",
        ...(iceServers.length ? { iceServers } : {}),
      });
      this.#session = session;
      if (this.#closed()) return;
      const resource = await whipPost(url, token, session.offerSdp);
      this.#location = resource.location;
      this.#serverIce = resource.iceServers;
      if (this.#closed()) return;
      const ended = new Promise<EgressError>((resolve) => {
        session.once("ended", (reason) => {
          resolve(new EgressError("lost", `the push ended (${reason})`, this.#context()));
        });
      });
      const connected = new Promise<void>((resolve) => session.once("connected", resolve));
      await session.acceptAnswer(resource.answer);
      const first = await Promise.race([
        connected.then(() => undefined),
        ended,
        delay(this.#options.connectTimeoutMs ?? 15_000).then(
          () =>
            new EgressError(
              "unreachable",
              "ICE and DTLS did not come up with the WHIP server",
              this.#context(),
            ),
        ),
      ]);
      if (first) throw first;
      if (this.#closed()) return;
      this.#state = "pushing";
      this.#failuresInARow = 0;
      this.stats.connects++;
      this.emit("pushing");
      throw await ended;
    } catch (error) {
      if (this.#closed()) return;
      await this.#teardown();
      if (this.#closed()) return;
      this.#fail(toEgressError(error, this.#context()));
    }
  }

  #fail(error: EgressError): void {
    this.stats.failures++;
    this.#failuresInARow++;
    this.#state = "waiting";
    const retryInMs = backoffDelay(this.#failuresInARow, this.#options.backoff);
    this.#timer = setTimeout(() => void this.#attempt(), retryInMs);
    if (this.listenerCount("failed") > 0) this.emit("failed", error, retryInMs);
  }

  /** DELETEs the server's session, if any, and ends ours. */
  async #teardown(): Promise<void> {
    const session = this.#session;
    const location = this.#location;
    this.#session = undefined;
    this.#location = undefined;
    session?.close();
    if (location) await whipDelete(location, this.#options.token);
  }

  /** A method, not the field, so checks after an await are not narrowed away. */
  #closed(): boolean {
    return this.#closing !== undefined;
  }

  #context(): Record<string, string> {
    return { endpoint: this.endpoint, stream: this.#stream };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function dedupe(servers: LinkIceServer[]): LinkIceServer[] {
  const seen = new Set<string>();
  return servers.filter((s) => {
    const key = `${s.urls}|${s.username ?? ""}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toEgressError(error: unknown, context: Record<string, string>): EgressError {
  if (error instanceof EgressError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CamgwError) {
    return new EgressError("protocol", `the push could not start: ${message}`, context, {
      cause: error,
    });
  }
  return new EgressError("protocol", `the push failed: ${message}`, context, { cause: error });
}
