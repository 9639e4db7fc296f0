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
import { ReplyQueue } from "./reply-queue.js";

export class MemoryViewer {
  readonly #replies = new ReplyQueue("reply");
  /** What the dispatcher sent this viewer, parsed back from JSON. */
  readonly received = this.#replies.received;
  /** The way back, as a transport hands it to the dispatcher with each message. */
  readonly transport: ViewerTransport;
  /** Make the transport refuse to send (as a broker that lost the connection would). */
  failSends = false;

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
        this.#replies.push(encodeMessage(message));
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
  next(timeoutMs = 5000): Promise<Record<string, unknown>> {
    return this.#replies.next(timeoutMs);
  }

  /** Sends and returns the next reply. */
  ask(payload: string | Uint8Array | object): Promise<Record<string, unknown>> {
    this.send(payload);
    return this.next();
  }
}
