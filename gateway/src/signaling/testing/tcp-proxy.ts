/**
 * A TCP forwarder between a client and a broker, so a test can cut the
 * client's connection abruptly (no DISCONNECT), as a pulled cable or a
 * crashed process would, without reaching into the client.
 */
import {
  createConnection,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from "node:net";

export class TcpProxy {
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;
  #cutOn: Buffer | undefined;
  /** Connections cut by cutOnceOn's trigger. */
  cuts = 0;

  private constructor(targetPort: number, targetHost: string) {
    this.#server = createServer((inbound) => {
      const outbound = createConnection({ port: targetPort, host: targetHost });
      for (const s of [inbound, outbound]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.on("data", (chunk: Buffer) => {
        if (this.#cutOn && chunk.includes(this.#cutOn)) {
          // Before forwarding: the broker never sees the packet.
          this.#cutOn = undefined;
          this.cuts++;
          inbound.destroy();
          outbound.destroy();
          return;
        }
        outbound.write(chunk);
      });
      outbound.pipe(inbound);
    });
  }

  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, targetHost);
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /**
   * Cuts the connection the next time the client sends bytes containing
   * `bytes` (a topic in a SUBSCRIBE or PUBLISH), before they reach the
   * broker: a connection lost at one precise step of a protocol.
   */
  cutOnceOn(bytes: string): void {
    this.#cutOn = Buffer.from(bytes);
  }

  /** Destroys every forwarded connection, both sides. */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
