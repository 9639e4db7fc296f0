/**
 * The embedded MQTT broker (aedes, in memory): MQTT over TCP, MQTT over TLS,
 * and MQTT over WebSocket on its own port and/or at a path of an existing
 * HTTP(S) server, so one port can serve the viewer and its signaling.
 *
 * Security (docs/security.md): with `auth`, every client logs in and may
 * touch only its own topics (broker-auth.ts, auth/broker-acl.ts); packets
 * over 70 KB end the connection before they are buffered
 * (mqtt-frame-guard.ts); connections are capped, in all and per client
 * address (http/address-cap.ts), and a client that has not
 * sent CONNECT within 10 s is dropped.
 *
 * Latency: Nagle is turned off on every accepted TCP socket. Without it a
 * small reply written while the previous one is unacknowledged waits for the
 * peer's delayed ACK (~40 ms on Linux). `ws` already calls setNoDelay() on
 * the sockets it upgrades (ws/lib/websocket.js, setSocket).
 */
import { EventEmitter } from "node:events";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
} from "node:http";
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from "node:net";
import type { Duplex } from "node:stream";
import {
  createServer as createTlsServer,
  type Server as TlsServer,
  type TLSSocket,
} from "node:tls";
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from "aedes";
import { WebSocketServer, createWebSocketStream, type WebSocket } from "ws";
import type { Principal } from "../auth/broker-acl.js";
import { MAX_PACKET_BYTES } from "../auth/mosquitto-files.js";
import { AddressCap, type ConnectionCapStats } from "../http/address-cap.js";
import { aedesAuthHooks, principalName, type BrokerAuthenticator } from "./broker-auth.js";
import { guardMqttFrames } from "./mqtt-frame-guard.js";

export interface EmbeddedBrokerOptions {
  /** Bind address; default "0.0.0.0" (a board serves its LAN). Tests use 127.0.0.1. */
  host?: string;
  /** MQTT over TCP; default 1883, 0 picks a free port, null disables it. */
  port?: number | null;
  /** MQTT over WebSocket on its own port (any path); default null (none), 0 picks a free port. */
  wsPort?: number | null;
  /** MQTT over TLS (on `tls.host`, default `host`), with this certificate and key (PEM). */
  tls?: { host?: string; port: number; cert: string; key: string };
  /**
   * Logins and topic rules (broker-auth.ts). Without it (and without
   * username/password) the broker is open: only for tests that stand in for
   * an external broker without ACL.
   */
  auth?: BrokerAuthenticator;
  /** A single login for everyone, no topic rules (tests); CONNACK 4 otherwise. */
  username?: string;
  password?: string;
  /** Connections open at once, all listeners together; default 128. */
  maxConnections?: number;
  /**
   * Connections open at once per client address, over the broker's own
   * listeners (TCP, TLS, its WebSocket port; /mqtt on the web ports counts
   * with the web server's); default 16, loopback exempt (http/address-cap.ts).
   */
  maxConnectionsPerAddress?: number;
  /** Largest MQTT packet (Remaining Length) accepted; default 70 000 bytes. */
  maxPacketBytes?: number;
}

/** Refuses a WebSocket upgrade: a reason (answered 403), or undefined to accept. */
export type UpgradeCheck = (req: IncomingMessage) => string | undefined;

export interface EmbeddedBrokerEvents {
  /**
   * One client's protocol error, refused login or broken socket (aedes drops
   * that client), or a listener's accept error; the broker keeps running. Not named "error" on purpose:
   * Node throws an "error" nobody listens to, and a client must never be
   * able to crash the broker.
   */
  clientError: [error: Error];
  clientConnected: [clientId: string];
  clientDisconnected: [clientId: string];
  /** A login was refused (anonymous, bad password, a client id of someone else's). */
  loginRefused: [clientId: string, reason: string];
}

function listen(
  server: NetServer | HttpServer,
  port: number,
  host: string,
  onLaterError: (err: Error) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      // Later listener errors (e.g. EMFILE on accept) must not crash the process.
      server.on("error", onLaterError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export class EmbeddedBroker extends EventEmitter<EmbeddedBrokerEvents> {
  readonly host: string;
  readonly #aedes: Aedes;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<Duplex>();
  readonly #detachers = new Set<() => void>();
  readonly #principals: WeakMap<Client, Principal>;
  readonly #clientsByName = new Map<string, Set<Client>>();
  readonly #maxConnections: number;
  readonly #maxPacketBytes: number;
  readonly #cap: AddressCap;
  #tcp: NetServer | undefined;
  #tls: TlsServer | undefined;
  #http: HttpServer | undefined;
  #port: number | undefined;
  #tlsPort: number | undefined;
  #wsPort: number | undefined;
  #closing: Promise<void> | undefined;
  readonly #onListenerError = (err: Error): void => {
    this.emit("clientError", err);
  };

  private constructor(
    aedes: Aedes,
    principals: WeakMap<Client, Principal>,
    options: EmbeddedBrokerOptions,
  ) {
    super();
    this.#aedes = aedes;
    this.#principals = principals;
    this.host = options.host ?? "0.0.0.0";
    this.#maxConnections = options.maxConnections ?? 128;
    this.#maxPacketBytes = options.maxPacketBytes ?? MAX_PACKET_BYTES;
    this.#cap = new AddressCap(options.maxConnectionsPerAddress);
    aedes.on("client", (client) => {
      const principal = principals.get(client);
      if (principal) {
        const name = principalName(principal);
        const set = this.#clientsByName.get(name) ?? new Set();
        set.add(client);
        this.#clientsByName.set(name, set);
      }
      this.emit("clientConnected", client.id);
    });
    aedes.on("clientDisconnect", (client) => {
      this.#forget(client);
      this.emit("clientDisconnected", client.id);
    });
    // A client's protocol error or broken socket is that client's problem;
    // aedes closes it. Surface it for logs, never crash the broker.
    aedes.on("clientError", (client, err) => this.emit("clientError", withClient(err, client.id)));
    aedes.on("connectionError", (client, err) =>
      this.emit("clientError", withClient(err, client.id)),
    );
  }

  /** Starts aedes and the enabled listeners; on failure nothing is left running. */
  static async start(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const principals = new WeakMap<Client, Principal>();
    let refused: (clientId: string, reason: string) => void = () => undefined;
    const aedes = await Aedes.createBroker({
      // A client that opened a connection has this long to log in.
      connectTimeout: 10_000,
      // Client ids are `<username>[.<suffix>]` (auth/broker-acl.ts); usernames
      // reach 77 characters (camgw-device-<64-char id>).
      maxClientsIdLength: 160,
      ...(options.auth
        ? aedesAuthHooks(options.auth, principals, (id, why) => refused(id, why))
        : authOptions(options)),
    });
    const broker = new EmbeddedBroker(aedes, principals, options);
    refused = (id, why) => broker.emit("loginRefused", id, why);
    try {
      await broker.#listen(options);
    } catch (err) {
      await broker.close();
      throw err;
    }
    return broker;
  }

  /** The bound MQTT/TCP port, if that listener is enabled. */
  get port(): number | undefined {
    return this.#port;
  }

  /** The bound MQTT/TLS port, if that listener is enabled. */
  get tlsPort(): number | undefined {
    return this.#tlsPort;
  }

  /** The bound MQTT/WebSocket port, if that listener is enabled. */
  get wsPort(): number | undefined {
    return this.#wsPort;
  }

  async #listen(options: EmbeddedBrokerOptions): Promise<void> {
    const tcpPort = options.port === undefined ? 1883 : options.port;
    if (tcpPort !== null) {
      this.#tcp = createNetServer({ noDelay: true }, (socket) => {
        if (this.#admitOrClose(socket)) this.#acceptTcp(socket);
      });
      this.#port = await listen(this.#tcp, tcpPort, this.host, this.#onListenerError);
    }
    if (options.tls) {
      this.#tls = createTlsServer({
        cert: options.tls.cert,
        key: options.tls.key,
        // A TLS handshake left hanging holds a connection slot.
        handshakeTimeout: 10_000,
      });
      // Counted per address as it arrives, before its handshake: a
      // handshake left hanging holds a slot as much as a session does.
      this.#tls.prependListener("connection", (socket: Socket) => {
        this.#admitOrClose(socket);
      });
      this.#tls.on("secureConnection", (socket: TLSSocket) => {
        this.#acceptTcp(socket);
      });
      // A failed handshake is that client's problem.
      this.#tls.on("tlsClientError", (err) => this.emit("clientError", err));
      this.#tlsPort = await listen(
        this.#tls,
        options.tls.port,
        options.tls.host ?? this.host,
        this.#onListenerError,
      );
    }
    if (options.wsPort !== undefined && options.wsPort !== null) {
      this.#http = createHttpServer((_req, res) => {
        res.writeHead(426, { "content-type": "text/plain" }).end("MQTT over WebSocket only\n");
      });
      this.#http.prependListener("connection", (socket: Socket) => {
        this.#admitOrClose(socket);
      });
      this.#http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        this.#upgrade(req, socket, head);
      });
      this.#wsPort = await listen(this.#http, options.wsPort, this.host, this.#onListenerError);
    }
  }

  /** Connections refused by the per-address and overall caps, for /metrics. */
  get connectionStats(): ConnectionCapStats {
    return this.#cap.stats;
  }

  /**
   * Serves a new certificate and key on the MQTT/TLS listener from the next
   * handshake on (a renewed one); sessions open keep theirs. No restart.
   */
  setTls(tls: { cert: string; key: string }): void {
    this.#tls?.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  get connectedClients(): number {
    return this.#aedes.connectedClients;
  }

  /**
   * Ends every connection of the account `name` (a viewer that was removed,
   * or whose credentials were replaced); returns how many there were.
   */
  disconnect(name: string): number {
    const clients = [...(this.#clientsByName.get(name) ?? [])];
    for (const client of clients) client.close();
    this.#clientsByName.delete(name);
    return clients.length;
  }

  /**
   * Serves MQTT over WebSocket on `server` at `path` (default /mqtt). Upgrades
   * for other paths are left to the server's other 'upgrade' listeners.
   * `check` may refuse an upgrade (e.g. a foreign Origin): 403, no WebSocket.
   * Returns a function that detaches it.
   */
  attachTo(server: HttpServer, path = "/mqtt", check?: UpgradeCheck): () => void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
      if (pathname !== path) return;
      const refusal = check?.(req);
      if (refusal !== undefined) {
        const body = `${refusal}\n`;
        socket.end(
          `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      this.#upgrade(req, socket, head);
    };
    server.on("upgrade", onUpgrade);
    const detach = (): void => {
      server.off("upgrade", onUpgrade);
      this.#detachers.delete(detach);
    };
    this.#detachers.add(detach);
    return detach;
  }

  /** Stops listening, disconnects every client, stops aedes; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const detach of [...this.#detachers]) detach();
      const closed = [this.#tcp, this.#tls, this.#http].map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server?.listening) resolve();
            else server.close(() => resolve());
          }),
      );
      await new Promise<void>((resolve) => {
        this.#aedes.close(() => resolve());
      });
      // Connections that never finished CONNECT are not aedes clients yet.
      for (const socket of this.#sockets) socket.destroy();
      for (const ws of this.#wss.clients) ws.terminate();
      this.#http?.closeAllConnections();
      this.#wss.close();
      await Promise.all(closed);
    })();
    return this.#closing;
  }

  #acceptTcp(socket: Socket): void {
    if (this.#closing || this.#full(socket)) {
      socket.destroy();
      return;
    }
    // createServer's noDelay covers plain TCP already; stated again (and
    // needed for TLS) because the latency budget depends on it.
    socket.setNoDelay(true);
    this.#handle(socket);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closing || this.#full(socket)) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const stream = createWebSocketStream(ws);
      stream.on("error", (err) => this.emit("clientError", err));
      this.#handle(stream, req);
    });
  }

  /** Every connection, whatever its listener: counted, size-guarded, handed to aedes. */
  #handle(connection: Duplex, req?: IncomingMessage): void {
    const guarded = guardMqttFrames(connection, this.#maxPacketBytes, (err) =>
      this.emit("clientError", err),
    );
    this.#sockets.add(connection);
    connection.once("close", () => this.#sockets.delete(connection));
    this.#aedes.handle(guarded, req);
  }

  /**
   * The per-address cap: false when `socket` is over it (closed, before a
   * byte is read). Only counted, not logged: a flood would fill the log.
   */
  #admitOrClose(socket: Socket): boolean {
    if (this.#cap.admit(socket)) return true;
    socket.destroy();
    return false;
  }

  #full(socket: Duplex): boolean {
    if (this.#sockets.size < this.#maxConnections) return false;
    this.#cap.countFull();
    this.emit(
      "clientError",
      new Error(
        `${this.#maxConnections} MQTT connections open already: refused one from ${"remoteAddress" in socket ? String(socket.remoteAddress) : "?"}`,
      ),
    );
    return true;
  }

  #forget(client: Client): void {
    const principal = this.#principals.get(client);
    if (!principal) return;
    const name = principalName(principal);
    const set = this.#clientsByName.get(name);
    set?.delete(client);
    if (set?.size === 0) this.#clientsByName.delete(name);
  }
}

/** A client's error as the log shows it: which client, what happened (the original as cause). */
function withClient(err: Error, clientId: string): Error {
  return new Error(`MQTT client ${clientId}: ${err.message}`, { cause: err });
}

function authOptions(options: EmbeddedBrokerOptions): Pick<AedesOptions, "authenticate"> {
  const { username, password } = options;
  if (username === undefined && password === undefined) return {};
  return {
    authenticate: (_client, user, pass, done) => {
      if (user === username && (pass?.toString("utf8") ?? "") === (password ?? "")) {
        done(null, true);
        return;
      }
      const error = new Error("bad username or password") as AuthenticateError;
      // CONNACK return code 4: bad user name or password (MQTT 3.1.1, 3.2.2.3).
      (error as { returnCode: number }).returnCode = 4;
      done(error, false);
    },
  };
}
