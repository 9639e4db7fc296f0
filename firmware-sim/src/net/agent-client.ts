/**
 * The owner's side of a socket agent (agent.ts) running in a lab namespace.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import type { AgentRequest, Datagram, SinkReport } from "./agent.js";
import { compiledScript } from "./compiled.js";
import { NetLabError } from "./errors.js";
import { inNamespace } from "./shell.js";
import type { StunServer } from "./stun-client.js";

export type { Datagram, SinkReport } from "./agent.js";

interface Answer {
  id?: number;
  ready?: boolean;
  ok?: boolean;
  result?: unknown;
  error?: string;
}

export class LabAgent {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly exited: Promise<void>;
  private stderr = "";

  private constructor(
    readonly ns: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.stderr.on("data", (c: Buffer) => (this.stderr += c.toString()));
    child.stdin.on("error", () => undefined);
    child.once("exit", () => {
      const err = new NetLabError(`the agent in ${ns} ended: ${this.stderr.trim()}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /** Starts an agent in a namespace; resolves once it is ready. */
  static async start(ns: string): Promise<LabAgent> {
    const [ip = "", ...args] = inNamespace(ns, process.execPath, [compiledScript("agent.js")]);
    const child = spawn(ip, args, { stdio: ["pipe", "pipe", "pipe"] });
    const agent = new LabAgent(ns, child);
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on("line", (line) => {
        const a = JSON.parse(line) as Answer;
        if (a.ready) {
          resolve();
          return;
        }
        const p = a.id === undefined ? undefined : agent.pending.get(a.id);
        if (!p || a.id === undefined) return;
        agent.pending.delete(a.id);
        if (a.ok) p.resolve(a.result);
        else p.reject(new NetLabError(`agent in ${ns}: ${a.error ?? "failed"}`));
      });
      child.once("exit", () =>
        reject(new NetLabError(`the agent in ${ns} did not start: ${agent.stderr}`)),
      );
    });
    return agent;
  }

  private call<T>(req: AgentRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.child.stdin.write(JSON.stringify({ id, ...req }) + "\n");
    });
  }

  /** Opens a UDP socket named `sock`; an echo socket mirrors what it gets (agent.ts). */
  bind(
    sock: string,
    options: { address?: string; port?: number; echo?: boolean } = {},
  ): Promise<{ address: string; port: number }> {
    return this.call({ op: "bind", sock, ...options });
  }

  send(sock: string, to: string, data: string): Promise<void> {
    return this.call({ op: "send", sock, to, data });
  }

  /** The next datagram on the socket, or null after timeoutMs. */
  receive(sock: string, timeoutMs = 1000): Promise<Datagram | null> {
    return this.call({ op: "receive", sock, timeoutMs });
  }

  /** Sends to an echo socket and returns what it saw as our address (null: no answer). */
  async mappedAddress(
    sock: string,
    echo: string,
    replyFrom?: string,
    timeoutMs = 1000,
  ): Promise<string | null> {
    await this.send(sock, echo, JSON.stringify(replyFrom ? { replyFrom } : {}));
    const d = await this.receive(sock, timeoutMs);
    return d ? (JSON.parse(d.data) as { from: string }).from : null;
  }

  /** Round-trip times through an echo socket, ms (null: lost). */
  ping(
    sock: string,
    to: string,
    options: { count?: number; intervalMs?: number; timeoutMs?: number; size?: number } = {},
  ): Promise<(number | null)[]> {
    return this.call({
      op: "ping",
      sock,
      to,
      count: options.count ?? 10,
      intervalMs: options.intervalMs ?? 20,
      timeoutMs: options.timeoutMs ?? 2000,
      size: options.size ?? 0,
    });
  }

  /** Sends `count` numbered datagrams of `size` bytes at `pps`. */
  blast(
    sock: string,
    to: string,
    count: number,
    pps: number,
    size = 200,
  ): Promise<{ sent: number }> {
    return this.call({ op: "blast", sock, to, count, pps, size });
  }

  /** From now on the socket counts arrivals instead of keeping them. */
  sink(sock: string): Promise<void> {
    return this.call({ op: "sink", sock });
  }

  sinkReport(sock: string): Promise<SinkReport> {
    return this.call({ op: "sinkReport", sock });
  }

  tcpListen(address: string, port: number): Promise<void> {
    return this.call({ op: "tcpListen", address, port });
  }

  tcpConnect(to: string, timeoutMs = 2000): Promise<{ ok: boolean; error?: string }> {
    return this.call({ op: "tcpConnect", to, timeoutMs });
  }

  stunBinding(server: StunServer): Promise<{ mapped: string; local: string }> {
    return this.call({ op: "stunBinding", server });
  }

  /** Allocates a relay with REST credentials and releases it again. */
  turnAllocate(
    server: StunServer,
    username: string,
    password: string,
    lifetimeS = 600,
  ): Promise<{ relayed: string; mapped: string; lifetimeS: number }> {
    return this.call({ op: "turnAllocate", server, username, password, lifetimeS });
  }

  closeSocket(sock: string): Promise<void> {
    return this.call({ op: "close", sock });
  }

  /** Ends the agent (closing its stdin). Safe to call twice. */
  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}
