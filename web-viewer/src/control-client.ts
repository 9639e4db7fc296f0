/**
 * The viewer's end of a camera's control DataChannel (docs/control.md):
 * requests with an id, each answered by the reply that carries it (or
 * rejected after a timeout, or when the channel closes), and notices
 * (replies without an id) handed to `onNotice`. A snapshot's chunks follow
 * its first reply under the same id; this client does not ask for them.
 */
import type {
  ControlReply,
  ControlRequest,
  RequestId,
} from "../../gateway/src/control/control-messages.js";

type Request = ControlRequest extends infer R ? (R extends unknown ? Omit<R, "id"> : never) : never;

const REQUEST_TIMEOUT_MS = 5_000;

interface Pending {
  resolve(reply: ControlReply): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ControlClient {
  readonly #channel: RTCDataChannel;
  readonly #pending = new Map<RequestId, Pending>();
  #nextId = 1;
  /** Messages without an id: `talk` (someone else holds the speaker), `app`. */
  onNotice: (notice: ControlReply) => void = () => undefined;

  constructor(channel: RTCDataChannel) {
    this.#channel = channel;
    channel.addEventListener("message", (event: MessageEvent<unknown>) => {
      if (typeof event.data !== "string") return;
      let reply: ControlReply;
      try {
        reply = JSON.parse(event.data) as ControlReply;
      } catch {
        return; // the camera only sends JSON; a broken message answers nothing
      }
      const id = "id" in reply ? reply.id : undefined;
      const pending = id === undefined ? undefined : this.#pending.get(id);
      if (id === undefined) {
        this.onNotice(reply);
      } else if (pending) {
        this.#pending.delete(id);
        clearTimeout(pending.timer);
        pending.resolve(reply);
      }
    });
    channel.addEventListener("close", () => this.#failAll("the control channel closed"));
  }

  get open(): boolean {
    return this.#channel.readyState === "open";
  }

  /** Sends `request` and resolves with its reply (an `error` reply too: the caller reads `type`). */
  request(request: Request): Promise<ControlReply> {
    if (!this.open) return Promise.reject(new Error("the control channel is not open"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no reply to ${request.type} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.#channel.send(JSON.stringify({ ...request, id }));
    });
  }

  #failAll(why: string): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error(why));
    }
    this.#pending.clear();
  }
}
