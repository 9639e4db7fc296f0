/**
 * A small STUN/TURN client (RFC 8489 messages, RFC 8656 Allocate and
 * Refresh with long-term credentials) over UDP, TCP or TLS: enough to
 * check the lab's coturn and to see a NAT's mappings from inside the lab.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Magic Cookie                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Transaction ID (96 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export type StunTransport = "udp" | "tcp" | "tls";

export interface StunServer {
  address: string;
  port: number;
  transport: StunTransport;
  /** PEM of the CA that signed a TLS server's certificate. */
  ca?: string;
}

const MAGIC = 0x2112a442;
export const METHOD = { binding: 0x001, allocate: 0x003, refresh: 0x004 } as const;
const CLASS = { request: 0x00, success: 0x02, error: 0x03 } as const;
export const ATTR = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
} as const;

export interface StunMessage {
  method: number;
  cls: number;
  transactionId: Buffer;
  attributes: Map<number, Buffer>;
}

/** Message type bits (RFC 8489 section 5): method and class interleaved. */
function messageType(method: number, cls: number): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((cls & 1) << 4) |
    ((cls & 2) << 7)
  );
}

function attribute(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, 4);
  return out;
}

/** Encodes a request; with a key, appends MESSAGE-INTEGRITY (RFC 8489 section 14.5). */
export function encodeRequest(
  method: number,
  transactionId: Buffer,
  attributes: [number, Buffer][],
  key?: Buffer,
): Buffer {
  const body = Buffer.concat(attributes.map(([t, v]) => attribute(t, v)));
  const header = Buffer.alloc(20);
  header.writeUInt16BE(messageType(method, CLASS.request), 0);
  header.writeUInt32BE(MAGIC, 4);
  transactionId.copy(header, 8);
  if (!key) {
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
  }
  // The HMAC covers the message with its length already counting the MI attribute.
  header.writeUInt16BE(body.length + 24, 2);
  const hmac = createHmac("sha1", key).update(header).update(body).digest();
  return Buffer.concat([header, body, attribute(ATTR.messageIntegrity, hmac)]);
}

export function decodeMessage(buf: Buffer): StunMessage | null {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC) return null;
  const type = buf.readUInt16BE(0);
  const length = buf.readUInt16BE(2);
  if (buf.length < 20 + length) return null;
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = ((type >> 4) & 1) | ((type >> 7) & 2);
  const attributes = new Map<number, Buffer>();
  for (let off = 20; off + 4 <= 20 + length;) {
    const t = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    if (!attributes.has(t)) attributes.set(t, buf.subarray(off + 4, off + 4 + len));
    off += 4 + Math.ceil(len / 4) * 4;
  }
  return { method, cls, transactionId: buf.subarray(8, 20), attributes };
}

/** An XOR-MAPPED-ADDRESS style value (IPv4) as "a.b.c.d:port". */
export function xorAddress(value: Buffer | undefined): string | null {
  if (!value || value.length < 8 || value[1] !== 0x01) return null;
  const port = value.readUInt16BE(2) ^ (MAGIC >>> 16);
  const addr = value.readUInt32BE(4) ^ MAGIC;
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}:${port}`;
}

export function errorCode(m: StunMessage): number | null {
  const v = m.attributes.get(ATTR.errorCode);
  return v && v.length >= 4 ? (v[2] ?? 0) * 100 + (v[3] ?? 0) : null;
}

/** One client transport to one server; requests matched by transaction id. */
export class StunConnection {
  private readonly waiting = new Map<string, (m: StunMessage) => void>();
  private buffered = Buffer.alloc(0);

  private constructor(
    readonly server: StunServer,
    private readonly udp: UdpSocket | null,
    private readonly stream: Socket | null,
  ) {
    udp?.on("message", (msg) => this.deliver(msg));
    stream?.on("data", (chunk: Buffer) => {
      // Over TCP and TLS messages follow each other: the header gives each one's length.
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 20) {
        const size = 20 + this.buffered.readUInt16BE(2);
        if (this.buffered.length < size) break;
        this.deliver(this.buffered.subarray(0, size));
        this.buffered = this.buffered.subarray(size);
      }
    });
  }

  static async open(server: StunServer, timeoutMs = 5000): Promise<StunConnection> {
    if (server.transport === "udp") {
      const udp = createSocket("udp4");
      await new Promise<void>((resolve) => udp.bind(0, resolve));
      return new StunConnection(server, udp, null);
    }
    const stream = await new Promise<Socket>((resolve, reject) => {
      const s =
        server.transport === "tls"
          ? tlsConnect({
              host: server.address,
              port: server.port,
              ca: server.ca,
              ALPNProtocols: ["stun.turn"],
            })
          : tcpConnect(server.port, server.address);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no ${server.transport} connection to ${server.address}:${server.port}`));
      }, timeoutMs);
      s.once(server.transport === "tls" ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new StunConnection(server, null, stream);
  }

  /** The local address of the connection (what the client's own host sees). */
  get localAddress(): string {
    if (this.udp) {
      const a = this.udp.address();
      return `${a.address}:${a.port}`;
    }
    return this.stream ? `${this.stream.localAddress ?? ""}:${this.stream.localPort ?? 0}` : "";
  }

  private deliver(buf: Buffer): void {
    const m = decodeMessage(buf);
    if (!m) return;
    const done = this.waiting.get(m.transactionId.toString("hex"));
    done?.(m);
  }

  /** Sends a request (UDP: retransmitted, RFC 8489 section 6.2.1) and waits for its answer. */
  async request(
    method: number,
    attributes: [number, Buffer][],
    key?: Buffer,
    timeoutMs = 3000,
  ): Promise<StunMessage> {
    const id = randomBytes(12);
    const packet = encodeRequest(method, id, attributes, key);
    const hex = id.toString("hex");
    return new Promise((resolve, reject) => {
      let retry: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        this.waiting.delete(hex);
        clearTimeout(retry);
        reject(
          new Error(
            `no STUN answer from ${this.server.address}:${this.server.port}/${this.server.transport}`,
          ),
        );
      }, timeoutMs);
      this.waiting.set(hex, (m) => {
        this.waiting.delete(hex);
        clearTimeout(timer);
        clearTimeout(retry);
        resolve(m);
      });
      const send = (rto: number): void => {
        if (this.udp) {
          this.udp.send(packet, this.server.port, this.server.address);
          retry = setTimeout(() => send(rto * 2), rto);
        } else {
          this.stream?.write(packet);
        }
      };
      send(250);
    });
  }

  close(): void {
    this.udp?.close();
    this.stream?.destroy();
  }
}

/** A Binding request: the address the server saw us come from. */
export async function stunBinding(server: StunServer): Promise<{ mapped: string; local: string }> {
  const c = await StunConnection.open(server);
  try {
    const m = await c.request(METHOD.binding, []);
    const mapped = xorAddress(m.attributes.get(ATTR.xorMappedAddress));
    if (m.cls !== CLASS.success || !mapped) throw new Error(`binding failed (${errorCode(m)})`);
    return { mapped, local: c.localAddress };
  } finally {
    c.close();
  }
}

export interface Allocation {
  relayed: string;
  mapped: string;
  lifetimeS: number;
  /** Refresh with lifetime 0 deletes it (RFC 8656 section 7). */
  release(): Promise<void>;
}

export class TurnError extends Error {
  constructor(
    readonly code: number | null,
    message: string,
  ) {
    super(message);
    this.name = "TurnError";
  }
}

/**
 * Allocates a UDP relay with long-term credentials: the first request is
 * refused with 401 and the server's REALM and NONCE, the second carries
 * USERNAME, REALM, NONCE and MESSAGE-INTEGRITY keyed with
 * MD5(username ":" realm ":" password) (RFC 8489 section 9.2.2).
 */
export async function turnAllocate(
  server: StunServer,
  username: string,
  password: string,
  lifetimeS = 600,
): Promise<Allocation> {
  const c = await StunConnection.open(server);
  try {
    const udpTransport = Buffer.from([17, 0, 0, 0]); // REQUESTED-TRANSPORT: UDP
    const lifetime = Buffer.alloc(4);
    lifetime.writeUInt32BE(lifetimeS);
    const first = await c.request(METHOD.allocate, [[ATTR.requestedTransport, udpTransport]]);
    const realm = first.attributes.get(ATTR.realm);
    const nonce = first.attributes.get(ATTR.nonce);
    if (errorCode(first) !== 401 || !realm || !nonce) {
      throw new TurnError(errorCode(first), "the server did not ask for credentials");
    }
    const key = createHash("md5").update(`${username}:${realm.toString()}:${password}`).digest();
    const auth = (): [number, Buffer][] => [
      [ATTR.username, Buffer.from(username)],
      [ATTR.realm, realm],
      [ATTR.nonce, nonce],
    ];
    const m = await c.request(
      METHOD.allocate,
      [[ATTR.requestedTransport, udpTransport], [ATTR.lifetime, lifetime], ...auth()],
      key,
    );
    if (m.cls !== CLASS.success) {
      throw new TurnError(errorCode(m), `allocate refused (${errorCode(m)})`);
    }
    const relayed = xorAddress(m.attributes.get(ATTR.xorRelayedAddress)) ?? "";
    const mapped = xorAddress(m.attributes.get(ATTR.xorMappedAddress)) ?? "";
    const granted = m.attributes.get(ATTR.lifetime)?.readUInt32BE(0) ?? 0;
    return {
      relayed,
      mapped,
      lifetimeS: granted,
      release: async () => {
        try {
          await c.request(METHOD.refresh, [[ATTR.lifetime, Buffer.alloc(4)], ...auth()], key);
        } finally {
          c.close();
        }
      },
    };
  } catch (err) {
    c.close();
    throw err;
  }
}
