/**
 * A viewer wired straight to a SignalingDispatcher, no broker in between:
 * the in-memory transport the protocol tests run on. Messages cross as JSON
 * text both ways, as on any wire, so what a test sees is what a viewer would.
 * Same calls as RawViewer (send, next, ask), so a test reads the same on
 * either transport.
 */
import type { SignalingDispatcher } from "../dispatcher.js";
import { encodeMessage, type ViewerInbound } from "../messages.js";
import type { ViewerIdentity, ViewerTransport } from "../viewer-transport.js";

export class MemoryViewer {
  /** What the dispatcher sent this viewer, parsed back from JSON. */
  readonly received: Record<string, unknown>[] = [];
  /** The way back, as a transport hands it to the dispatcher with each message. */
  readonly transport: ViewerTransport;
  /** Make the transport refuse to send (as a broker that lost the connection would). */
  failSends = false;
  readonly #waiters: (() => void)[] = [];
  #read = 0;

  constructor(
    readonly dispatcher: SignalingDispatcher,
    viewerId: string,
    identity: Partial<ViewerIdentity> = {},
  ) {
    this.transport = {
      identity: { viewerId, ...identity },
      via: "memory",
      send: (message: ViewerInbound) => {
        if (this.failSends) return Promise.reject(new Error(`memory: ${viewerId} is gone`));
        this.received.push(JSON.parse(encodeMessage(message)) as Record<string, unknown>);
        for (const wake of this.#waiters.splice(0)) wake();
        return Promise.resolve();
      },
    };
  }

  /** Delivers one message from this viewer: an object goes as JSON, a string or bytes as they are. */
  send(payload: string | Uint8Array | object): void {
    const body =
      typeof payload === "string" || payload instanceof Uint8Array
        ? payload
        : JSON.stringify(payload);
    this.dispatcher.receive(this.transport, body);
  }

  /** The next message not yet read. */
  async next(timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length <= this.#read) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const message = this.received[this.#read];
    this.#read += 1;
    if (!message) throw new Error("unreachable");
    return message;
  }

  /** Sends and returns the next reply. */
  ask(payload: string | Uint8Array | object): Promise<Record<string, unknown>> {
    this.send(payload);
    return this.next();
  }
}
