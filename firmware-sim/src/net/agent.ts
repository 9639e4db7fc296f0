/**
 * The lab's socket agent: a small program run inside a namespace
 * (`ip netns exec NS node agent.js`) that opens UDP and TCP sockets there
 * on request, so tests in the lab's owner can see the network from any
 * site: what a NAT maps, what it lets in, how long a round trip takes, how
 * many packets of a burst arrive. One JSON request per stdin line, one
 * JSON answer per stdout line ({id, ok, result} or {id, ok: false, error}).
 *
 * An echo socket answers every datagram with {"from": "ip:port", "data": ...}
 * (a STUN-like mirror); a request {"replyFrom": "SOCK"} is answered from
 * that other socket instead (another port or address: RFC 5780's
 * CHANGE-REQUEST, done by hand), which shows a NAT's filtering.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect as tcpConnect, createServer, type Server } from "node:net";
import { createInterface } from "node:readline";
import { stunBinding, turnAllocate, type StunServer } from "./stun-client.js";

export type AgentRequest =
  | { op: "bind"; sock: string; address?: string; port?: number; echo?: boolean }
  | { op: "send"; sock: string; to: string; data: string }
  | { op: "receive"; sock: string; timeoutMs: number }
  | {
      op: "ping";
      sock: string;
      to: string;
      count: number;
      intervalMs: number;
      timeoutMs: number;
      size?: number;
    }
  | { op: "blast"; sock: string; to: string; count: number; pps: number; size: number }
  | { op: "sink"; sock: string }
  | { op: "sinkReport"; sock: string }
  | { op: "tcpListen"; address: string; port: number }
  | { op: "tcpConnect"; to: string; timeoutMs: number }
  | { op: "stunBinding"; server: StunServer }
  | {
      op: "turnAllocate";
      server: StunServer;
      username: string;
      password: string;
      lifetimeS: number;
    }
  | { op: "close"; sock: string };

export interface Datagram {
  from: string;
  data: string;
  /** When it arrived, ms (performance.now() in the agent). */
  atMs: number;
}

export interface SinkReport {
  /** Sequence numbers (a blast's first 4 bytes) in arrival order. */
  seqs: number[];
  bytes: number;
  /** Arrival times of the first and last datagram, ms (performance.now()). */
  firstMs: number | null;
  lastMs: number | null;
}

interface AgentSocket {
  udp: UdpSocket;
  inbox: Datagram[];
  waiters: ((d: Datagram) => void)[];
  echo: boolean;
  sink: { seqs: number[]; bytes: number; firstMs: number | null; lastMs: number | null } | null;
}

const sockets = new Map<string, AgentSocket>();
const servers: Server[] = [];

function split(to: string): [string, number] {
  const i = to.lastIndexOf(":");
  return [to.slice(0, i), Number(to.slice(i + 1))];
}

function socket(name: string): AgentSocket {
  const s = sockets.get(name);
  if (!s) throw new Error(`no socket "${name}"`);
  return s;
}

function onMessage(s: AgentSocket, msg: Buffer, from: string): void {
  if (s.sink) {
    const now = performance.now();
    s.sink.seqs.push(msg.length >= 4 ? msg.readUInt32BE(0) : -1);
    s.sink.bytes += msg.length;
    s.sink.firstMs ??= now;
    s.sink.lastMs = now;
    return;
  }
  const data = msg.toString();
  const atMs = performance.now();
  if (s.echo) {
    let via = s;
    try {
      const asked = (JSON.parse(data) as { replyFrom?: string }).replyFrom;
      if (asked) via = socket(asked);
    } catch {
      // not a JSON request: answer from this socket
    }
    const [address, port] = split(from);
    via.udp.send(JSON.stringify({ from, data }), port, address);
    return;
  }
  const d = { from, data, atMs };
  const waiter = s.waiters.shift();
  if (waiter) waiter(d);
  else s.inbox.push(d);
}

function receive(s: AgentSocket, timeoutMs: number): Promise<Datagram | null> {
  const queued = s.inbox.shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve) => {
    const waiter = (d: Datagram): void => {
      clearTimeout(timer);
      resolve(d);
    };
    const timer = setTimeout(() => {
      s.waiters.splice(s.waiters.indexOf(waiter), 1);
      resolve(null);
    }, timeoutMs);
    s.waiters.push(waiter);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Round trips through an echo socket, ms; null for a probe that got no answer. */
async function ping(req: Extract<AgentRequest, { op: "ping" }>): Promise<(number | null)[]> {
  const s = socket(req.sock);
  const [address, port] = split(req.to);
  const sentAt: number[] = [];
  const rtts: (number | null)[] = Array.from({ length: req.count }, () => null);
  const state = { sending: true };
  const collect = (async () => {
    let deadline = Infinity;
    for (;;) {
      if (!state.sending && deadline === Infinity) deadline = performance.now() + req.timeoutMs;
      if (performance.now() > deadline || (!state.sending && rtts.every((r) => r !== null))) return;
      const d = await receive(s, 50);
      if (!d) continue;
      try {
        const echoed = JSON.parse(d.data) as Datagram;
        const seq = (JSON.parse(echoed.data) as { ping: number }).ping;
        const at = sentAt[seq];
        if (at !== undefined && rtts[seq] === null) rtts[seq] = d.atMs - at;
      } catch {
        // not one of ours
      }
    }
  })();
  for (let seq = 0; seq < req.count; seq++) {
    sentAt[seq] = performance.now();
    s.udp.send(JSON.stringify({ ping: seq, pad: "x".repeat(req.size ?? 0) }), port, address);
    await sleep(req.intervalMs);
  }
  state.sending = false;
  await collect;
  return rtts;
}

/** Sends `count` datagrams of `size` bytes at `pps`, numbered in their first 4 bytes. */
async function blast(req: Extract<AgentRequest, { op: "blast" }>): Promise<{ sent: number }> {
  const s = socket(req.sock);
  const [address, port] = split(req.to);
  const start = performance.now();
  for (let seq = 0; seq < req.count; seq++) {
    const due = start + (seq * 1000) / req.pps;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const packet = Buffer.alloc(Math.max(4, req.size));
    packet.writeUInt32BE(seq, 0);
    s.udp.send(packet, port, address);
  }
  return { sent: req.count };
}

async function handle(req: AgentRequest): Promise<unknown> {
  switch (req.op) {
    case "bind": {
      const udp = createSocket("udp4");
      const s: AgentSocket = { udp, inbox: [], waiters: [], echo: req.echo === true, sink: null };
      udp.on("message", (msg, rinfo) => onMessage(s, msg, `${rinfo.address}:${rinfo.port}`));
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind(req.port ?? 0, req.address, () => resolve());
      });
      // Blasts must not be lost in our own receive buffer.
      udp.setRecvBufferSize(4 * 1024 * 1024);
      sockets.set(req.sock, s);
      const a = udp.address();
      return { address: a.address, port: a.port };
    }
    case "send": {
      const [address, port] = split(req.to);
      socket(req.sock).udp.send(req.data, port, address);
      return null;
    }
    case "receive":
      return receive(socket(req.sock), req.timeoutMs);
    case "ping":
      return ping(req);
    case "blast":
      return blast(req);
    case "sink":
      socket(req.sock).sink = { seqs: [], bytes: 0, firstMs: null, lastMs: null };
      return null;
    case "sinkReport":
      return socket(req.sock).sink;
    case "tcpListen": {
      const server = createServer((c) => c.end("camgw-lab\n"));
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(req.port, req.address, () => resolve());
      });
      return null;
    }
    case "tcpConnect": {
      const [address, port] = split(req.to);
      return new Promise((resolve) => {
        const c = tcpConnect(port, address);
        const timer = setTimeout(() => {
          c.destroy();
          resolve({ ok: false, error: "timeout" });
        }, req.timeoutMs);
        c.once("connect", () => {
          clearTimeout(timer);
          c.destroy();
          resolve({ ok: true });
        });
        c.once("error", (err) => {
          clearTimeout(timer);
          resolve({ ok: false, error: err.message });
        });
      });
    }
    case "stunBinding":
      return stunBinding(req.server);
    case "turnAllocate": {
      const a = await turnAllocate(req.server, req.username, req.password, req.lifetimeS);
      await a.release();
      return { relayed: a.relayed, mapped: a.mapped, lifetimeS: a.lifetimeS };
    }
    case "close":
      socket(req.sock).udp.close();
      sockets.delete(req.sock);
      return null;
  }
}

function answer(line: string): void {
  process.stdout.write(line + "\n");
}

createInterface({ input: process.stdin })
  .on("line", (line) => {
    const { id, ...req } = JSON.parse(line) as AgentRequest & { id: number };
    handle(req).then(
      (result) => answer(JSON.stringify({ id, ok: true, result })),
      (err: unknown) => answer(JSON.stringify({ id, ok: false, error: (err as Error).message })),
    );
  })
  // The lab's owner went away: so do we.
  .on("close", () => process.exit(0));
answer(JSON.stringify({ ready: true }));
