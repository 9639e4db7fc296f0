/**
 * The STUN/TURN servers of the gateway and of each viewer, from the config:
 * TURN credentials made fresh for whoever asks (turn-credentials.ts), and
 * which transport worked for each TURN server remembered for the
 * gateway's next sessions. docs/signaling.md "ICE servers" says what a
 * viewer gets and why; every transport (MQTT signaling, WHEP) hands out
 * the same `forViewer()`.
 */
import { EventEmitter } from "node:events";
import type { ViewerIceServers } from "../signaling/session-host.js";
import type { IceServer } from "./ice-config.js";
import { turnRestCredentials } from "./turn-credentials.js";

export type { ViewerIceServers } from "../signaling/session-host.js";

/** The servers one of the gateway's own sessions uses. */
export interface GatewayIceServers {
  servers: IceServer[];
  /**
   * The plain `turn:` URL werift will allocate on by racing UDP and TCP
   * (werift patch 5), when it will: report which transport won with
   * noteTurnTransport(). Absent when the transport is fixed (by the URL, or
   * by what was remembered).
   */
  racedTurnUrl?: string;
}

export type TurnTransport = "udp" | "tcp" | "tls";

export interface IceServerProviderOptions {
  /** The configured servers: stun:, turn:, turns: URLs; a TURN one may carry its own credentials. */
  servers: readonly IceServer[];
  /** The TURN REST shared secret (coturn's static-auth-secret); "" or absent: none. */
  turnSecret?: string;
  /** Seconds REST credentials stay valid (default 86 400, a day). */
  credentialTtlS?: number;
  /** The name in the gateway's own REST usernames: its device id. */
  deviceId: string;
  /** Credentials for TURN URLs that carry none, when there is no secret: the gateway's own only. */
  username?: string;
  credential?: string;
  /** How long a TURN server's transport is remembered (default 10 minutes). */
  transportMemoryMs?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

export interface IceServerProviderEvents {
  /** A plain turn: server allocated over another transport than last time (for the log). */
  transport: [url: string, transport: TurnTransport];
}

const urlsOf = (server: IceServer): string[] =>
  Array.isArray(server.urls) ? server.urls : [server.urls];
const isTurn = (url: string): boolean => /^turns?:/i.test(url);
/** A `turn:` URL with no transport: werift races UDP and TCP for it. */
const isPlainTurn = (url: string): boolean => /^turn:/i.test(url) && !/[?&]transport=/i.test(url);

export class IceServerProvider extends EventEmitter<IceServerProviderEvents> {
  readonly #servers: readonly IceServer[];
  readonly #secret: string;
  readonly #ttlS: number;
  readonly #deviceId: string;
  readonly #username: string | undefined;
  readonly #credential: string | undefined;
  readonly #memoryMs: number;
  readonly #now: () => number;
  /** Plain turn: URLs whose allocation ended up on TCP, and when that was learnt. */
  readonly #overTcp = new Map<string, number>();

  constructor(options: IceServerProviderOptions) {
    super();
    this.#servers = options.servers.map((s) => ({ ...s }));
    this.#secret = options.turnSecret ?? "";
    this.#ttlS = options.credentialTtlS ?? 86_400;
    this.#deviceId = options.deviceId;
    this.#username = options.username || undefined;
    this.#credential = options.credential || undefined;
    this.#memoryMs = options.transportMemoryMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** True when viewers get TURN servers (a secret and at least one TURN URL without credentials). */
  get sharesTurn(): boolean {
    return this.#secret !== "" && this.#sharedTurnUrls().length > 0;
  }

  /**
   * The servers for one viewer: every STUN URL, and the TURN URLs that
   * carry no credentials of their own with REST credentials made for
   * `viewerId` now. TURN servers with fixed credentials (in the config's
   * entry, or ice-username/ice-credential) are the gateway's own and are
   * never handed out: a long-lived secret must not go to every viewer.
   */
  forViewer(viewerId: string): ViewerIceServers {
    const stun = this.#servers.flatMap(urlsOf).filter((u) => !isTurn(u));
    const iceServers: ViewerIceServers["iceServers"] = stun.length ? [{ urls: stun }] : [];
    const turn = this.#secret ? this.#sharedTurnUrls() : [];
    if (turn.length === 0) return { iceServers };
    const creds = turnRestCredentials(this.#secret, viewerId, this.#ttlS, this.#now());
    iceServers.push({ urls: turn, username: creds.username, credential: creds.credential });
    return { iceServers, ttl: this.#ttlS };
  }

  /**
   * The servers for one of the gateway's own sessions: REST credentials
   * made now (so a session never starts with stale ones), fixed ones where
   * configured, and a plain turn: URL pinned to TCP while it is remembered
   * that UDP got no allocation there.
   */
  forGateway(): GatewayIceServers {
    const now = this.#now();
    const rest = this.#secret
      ? turnRestCredentials(this.#secret, this.#deviceId, this.#ttlS, now)
      : undefined;
    let racedTurnUrl: string | undefined;
    let firstTurn = true;
    const servers = this.#servers.map((server): IceServer => {
      const urls = urlsOf(server).map((url) => {
        if (!isTurn(url)) return url;
        const pinned = isPlainTurn(url) && this.#remembersTcp(url, now);
        if (firstTurn && isPlainTurn(url) && !pinned) racedTurnUrl = url;
        firstTurn = false;
        return pinned ? `${url}${url.includes("?") ? "&" : "?"}transport=tcp` : url;
      });
      const out: IceServer = {
        ...server,
        urls: Array.isArray(server.urls) ? urls : (urls[0] ?? ""),
      };
      if (!urls.some(isTurn) || (server.username !== undefined && server.credential !== undefined))
        return out;
      if (rest) return { ...out, username: rest.username, credential: rest.credential };
      return {
        ...out,
        ...(this.#username ? { username: this.#username } : {}),
        ...(this.#credential ? { credential: this.#credential } : {}),
      };
    });
    return racedTurnUrl === undefined ? { servers } : { servers, racedTurnUrl };
  }

  /**
   * What a session's race on a plain turn: URL ended with. TCP is
   * remembered (the next sessions go straight to it instead of waiting
   * 250 ms for UDP) for a while, then UDP gets another chance; UDP forgets
   * any TCP memory.
   */
  noteTurnTransport(url: string, transport: TurnTransport): void {
    if (!isPlainTurn(url)) return;
    const had = this.#overTcp.has(url);
    if (transport === "tcp") {
      this.#overTcp.set(url, this.#now());
      if (!had) this.emit("transport", url, transport);
    } else if (had) {
      this.#overTcp.delete(url);
      this.emit("transport", url, transport);
    }
  }

  /** The network changed: what worked before says nothing now. */
  forgetTransports(): void {
    this.#overTcp.clear();
  }

  /** Plain turn: URLs pinned to TCP now. */
  get rememberedTcp(): string[] {
    const now = this.#now();
    return [...this.#overTcp.keys()].filter((url) => this.#remembersTcp(url, now));
  }

  #remembersTcp(url: string, now: number): boolean {
    const at = this.#overTcp.get(url);
    if (at === undefined) return false;
    if (now - at <= this.#memoryMs) return true;
    this.#overTcp.delete(url);
    return false;
  }

  #sharedTurnUrls(): string[] {
    return this.#servers
      .filter((s) => s.username === undefined && s.credential === undefined)
      .flatMap(urlsOf)
      .filter(isTurn);
  }
}
