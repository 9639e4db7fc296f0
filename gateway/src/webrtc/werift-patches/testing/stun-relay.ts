/**
 * A UDP relay between one TURN client and coturn, for tests that need the
 * network to lose or delay some of the server's answers: every STUN
 * request the client sends is forwarded and recorded (method and
 * LIFETIME), and a test-chosen rule drops or holds the server's answer to
 * it. Real sockets on 127.0.0.1 both ways; the client and coturn see an
 * ordinary path that is lossy or slow.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { once } from "node:events";
import { parseMessage } from "werift";

/** One request as the relay forwarded it to the server. */
export interface RelayedRequest {
  /** STUN method (RFC 8656 section 17: 0x004 Refresh, 0x008 CreatePermission, 0x009 ChannelBind). */
  method: number;
  transactionId: string;
  /** The LIFETIME attribute of a Refresh or Allocate, if any. */
  lifetime: number | undefined;
}

/** What to do with the server's answer to `request`: pass it, drop it, or hold it `ms`. */
export type AnswerRule = (request: RelayedRequest) => "pass" | "drop" | { holdMs: number };

export class StunRelay {
  readonly requests: RelayedRequest[] = [];
  readonly #front: Socket;
  readonly #back: Socket;
  readonly #byTransaction = new Map<string, RelayedRequest>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #client: RemoteInfo | undefined;
  #closed = false;

  private constructor(
    front: Socket,
    back: Socket,
    server: number,
    readonly rule: AnswerRule,
  ) {
    this.#front = front;
    this.#back = back;
    front.on("message", (data, from) => {
      this.#client = from;
      this.#record(data);
      back.send(data, server, "127.0.0.1");
    });
    back.on("message", (data) => {
      const client = this.#client;
      if (!client || this.#closed) return;
      const request = this.#byTransaction.get(parseMessage(data)?.transactionIdHex ?? "");
      const verdict = request ? rule(request) : "pass";
      if (verdict === "drop") return;
      if (verdict === "pass") {
        front.send(data, client.port, client.address);
        return;
      }
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!this.#closed) front.send(data, client.port, client.address);
      }, verdict.holdMs);
      this.#timers.add(timer);
    });
  }

  static async start(serverPort: number, rule: AnswerRule): Promise<StunRelay> {
    const front = createSocket("udp4");
    const back = createSocket("udp4");
    front.bind(0, "127.0.0.1");
    back.bind(0, "127.0.0.1");
    await Promise.all([once(front, "listening"), once(back, "listening")]);
    return new StunRelay(front, back, serverPort, rule);
  }

  get port(): number {
    return this.#front.address().port;
  }

  #record(data: Buffer): void {
    const message = parseMessage(data);
    if (!message) return;
    const lifetime: unknown = message.getAttributeValue("LIFETIME");
    const request: RelayedRequest = {
      method: message.messageMethod,
      transactionId: message.transactionIdHex,
      lifetime: typeof lifetime === "number" ? lifetime : undefined,
    };
    this.requests.push(request);
    this.#byTransaction.set(request.transactionId, request);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#front.close();
    this.#back.close();
  }
}
