import { EventEmitter } from "node:events";
import { chmod, lstat, unlink } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { MAX_APP_DATA } from "./control-messages.js";
import type { AppProgram } from "./control-services.js";

/**
 * The Unix socket where the user's own program (GPIO, pan/tilt, lights)
 * meets the viewers' `app` messages (docs/control.md "The app socket").
 * camgw listens; programs connect. Each line is one JSON object
 * (newline-delimited JSON, at most MAX_LINE bytes):
 *
 *   camgw -> program  {"type":"join","viewer":"v1","session":"s1"}
 *                     {"type":"app","viewer":"v1","session":"s1","data":...}
 *                     {"type":"leave","viewer":"v1","session":"s1"}
 *                     {"type":"error","message":"..."}   (about the program's last line)
 *   program -> camgw  {"type":"app","data":...}                            (every permitted viewer)
 *                     {"type":"app","viewer":"v1","session":"s1","data":...} (one session)
 *
 * The socket file is created mode 0600 (only camgw's user may connect):
 * a program that moves a camera or opens a door must not be reachable by
 * every local user. A stale socket file (nobody listening) is replaced; a
 * live one, or anything that is not a socket, stops start-up.
 */

/** Longest line either way: an app payload plus its envelope. */
export const MAX_LINE = MAX_APP_DATA + 1024;

/** A program's message for viewers: one session, or every permitted one. */
export interface ProgramMessage {
  viewer?: string;
  session?: string;
  data: unknown;
}

export interface AppBridgeEvents {
  /** A program sent `app` data; `deliver` says how many sessions got it (0: none). */
  message: [ProgramMessage, (delivered: number) => void];
  /** A program connected or went away (for the log). */
  program: ["connected" | "disconnected"];
}

export class AppBridgeError extends Error {}

export class AppBridge extends EventEmitter<AppBridgeEvents> implements AppProgram {
  private readonly sockets = new Set<Socket>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {
    super();
    server.on("connection", (socket) => this.accept(socket));
  }

  /** Listens at `path` (mode 0600); throws AppBridgeError saying why it cannot. */
  static async listen(path: string): Promise<AppBridge> {
    await removeStaleSocket(path);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) =>
        reject(new AppBridgeError(`cannot listen on ${path}: ${err.message}`)),
      );
      // bind() creates the file with the umask applied, synchronously inside
      // listen(): no moment where another user could connect before chmod.
      const umask = process.umask(0o177);
      try {
        server.listen(path, () => resolve());
      } finally {
        process.umask(umask);
      }
    });
    await chmod(path, 0o600);
    return new AppBridge(path, server);
  }

  get connected(): number {
    return this.sockets.size;
  }

  fromViewer(viewerId: string, session: string, data: unknown): void {
    this.broadcast({ type: "app", viewer: viewerId, session, data });
  }

  viewerJoined(viewerId: string, session: string): void {
    this.broadcast({ type: "join", viewer: viewerId, session });
  }

  viewerLeft(viewerId: string, session: string): void {
    this.broadcast({ type: "leave", viewer: viewerId, session });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await unlink(this.path).catch(() => undefined);
    this.removeAllListeners();
  }

  private broadcast(message: Record<string, unknown>): void {
    const line = `${JSON.stringify(message)}\n`;
    for (const socket of this.sockets) {
      // A program that stopped reading is not waited for: past 1 MiB queued it is dropped.
      if (socket.writableLength > 1024 * 1024) {
        socket.destroy();
        continue;
      }
      socket.write(line);
    }
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.emit("program", "connected");
    socket.setEncoding("utf8");
    let buffered = "";
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        this.line(socket, line);
      }
      if (Buffer.byteLength(buffered) > MAX_LINE) {
        buffered = "";
        this.tell(socket, `a line has at most ${MAX_LINE} bytes; dropped`);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.sockets.delete(socket);
      if (!this.closed) this.emit("program", "disconnected");
    });
  }

  private line(socket: Socket, line: string): void {
    if (line.trim() === "") return;
    if (Buffer.byteLength(line) > MAX_LINE) {
      this.tell(socket, `a line has at most ${MAX_LINE} bytes; dropped`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.tell(socket, "not JSON");
      return;
    }
    const message = parseProgramMessage(value);
    if (typeof message === "string") {
      this.tell(socket, message);
      return;
    }
    this.emit("message", message, (delivered) => {
      if (delivered === 0) {
        const to = message.viewer ? `session ${message.viewer}/${message.session ?? "*"}` : "any";
        this.tell(socket, `no permitted viewer (${to}) has its control channel open; dropped`);
      }
    });
  }

  private tell(socket: Socket, message: string): void {
    socket.write(`${JSON.stringify({ type: "error", message })}\n`);
  }
}

/** A program's line as a message, or what is wrong with it. */
export function parseProgramMessage(value: unknown): ProgramMessage | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "a line is a JSON object";
  }
  const o = value as Record<string, unknown>;
  if (o.type !== "app") return `unknown type ${JSON.stringify(o.type)} (only "app")`;
  if (!("data" in o)) return "app needs data";
  if (Buffer.byteLength(JSON.stringify(o.data)) > MAX_APP_DATA) {
    return `app data has at most ${MAX_APP_DATA} bytes of JSON`;
  }
  if (o.viewer !== undefined && typeof o.viewer !== "string") return "viewer must be a string";
  if (o.session !== undefined && typeof o.session !== "string") return "session must be a string";
  if (o.session !== undefined && o.viewer === undefined) return "session needs viewer";
  return {
    data: o.data,
    ...(typeof o.viewer === "string" ? { viewer: o.viewer } : {}),
    ...(typeof o.session === "string" ? { session: o.session } : {}),
  };
}

/** Removes a socket file nobody listens on; refuses a live one or a non-socket. */
async function removeStaleSocket(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch {
    return; // nothing there
  }
  if (!stats.isSocket()) {
    throw new AppBridgeError(`${path} exists and is not a socket; not touching it`);
  }
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) throw new AppBridgeError(`${path} is in use by another process`);
  await unlink(path);
}
