/**
 * The embedded MQTT broker (aedes, in memory): MQTT over TCP, and MQTT over
 * WebSocket on its own port and/or at a path of an existing HTTP server, so
 * one port can serve the viewer and its signaling.
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
import { Aedes, type AuthenticateError } from "aedes";
import { WebSocketServer, createWebSocketStream, type WebSocket } from "ws";

export interface EmbeddedBrokerOptions {
  /** Bind address; default "0.0.0.0" (a board serves its LAN). Tests use 127.0.0.1. */
  host?: string;
  /** MQTT over TCP; default 1883, 0 picks a free port, null disables it. */
  port?: number | null;
  /** MQTT over WebSocket on its own port (any path); default null (none), 0 picks a free port. */
  wsPort?: number | null;
  /** When set, clients must present these credentials (CONNACK 4 otherwise). */
  username?: string;
  password?: string;
}

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
  readonly #sockets = new Set<Socket>();
  readonly #detachers = new Set<() => void>();
  #tcp: NetServer | undefined;
  #http: HttpServer | undefined;
  #port: number | undefined;
  #wsPort: number | undefined;
  #closing: Promise<void> | undefined;
  readonly #onListenerError = (err: Error): void => {
    this.emit("clientError", err);
  };

  private constructor(aedes: Aedes, host: string) {
    super();
    this.#aedes = aedes;
    this.host = host;
    aedes.on("client", (client) => this.emit("clientConnected", client.id));
    aedes.on("clientDisconnect", (client) => this.emit("clientDisconnected", client.id));
    // A client's protocol error or broken socket is that client's problem;
    // aedes closes it. Surface it for logs, never crash the broker.
    aedes.on("clientError", (client, err) => this.emit("clientError", withClient(err, client.id)));
    aedes.on("connectionError", (client, err) =>
      this.emit("clientError", withClient(err, client.id)),
    );
  }

  /** Starts aedes and the enabled listeners; on failure nothing is left running. */
  static async start(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker(authOptions(options));
    const broker = new EmbeddedBroker(aedes, options.host ?? "0.0.0.0");
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

  /** The bound MQTT/WebSocket port, if that listener is enabled. */
  get wsPort(): number | undefined {
    return this.#wsPort;
  }

  async #listen(options: EmbeddedBrokerOptions): Promise<void> {
    const tcpPort = options.port === undefined ? 1883 : options.port;
    if (tcpPort !== null) {
      this.#tcp = createNetServer({ noDelay: true }, (socket) => {
        this.#acceptTcp(socket);
      });
      this.#port = await listen(this.#tcp, tcpPort, this.host, this.#onListenerError);
    }
    if (options.wsPort !== undefined && options.wsPort !== null) {
      this.#http = createHttpServer((_req, res) => {
        res.writeHead(426, { "content-type": "text/plain" }).end("MQTT over WebSocket only\n");
      });
      this.#http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        this.#upgrade(req, socket, head);
      });
      this.#wsPort = await listen(this.#http, options.wsPort, this.host, this.#onListenerError);
    }
  }

  get connectedClients(): number {
    return this.#aedes.connectedClients;
  }

  /**
   * Serves MQTT over WebSocket on `server` at `path` (default /mqtt). Upgrades
   * for other paths are left to the server's other 'upgrade' listeners.
   * Returns a function that detaches it.
   */
  attachTo(server: HttpServer, path = "/mqtt"): () => void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
      if (pathname === path) this.#upgrade(req, socket, head);
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
      const closed = [this.#tcp, this.#http].map(
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
    if (this.#closing) {
      socket.destroy();
      return;
    }
    // createServer's noDelay covers this already; stated again because the
    // latency budget depends on it (see the file comment).
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    this.#aedes.handle(socket);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const stream = createWebSocketStream(ws);
      stream.on("error", (err) => this.emit("clientError", err));
      this.#aedes.handle(stream, req);
    });
  }
}

/** A client's error as the log shows it: which client, what happened (the original as cause). */
function withClient(err: Error, clientId: string): Error {
  return new Error(`MQTT client ${clientId}: ${err.message}`, { cause: err });
}

function authOptions(options: EmbeddedBrokerOptions): {
  authenticate?: NonNullable<Parameters<typeof Aedes.createBroker>[0]>["authenticate"];
} {
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
