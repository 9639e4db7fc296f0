/**
 * What a fake viewer has been sent, read in order: the one waiting queue
 * behind MemoryViewer (in-memory transport) and RawViewer (a bare MQTT
 * client), so a protocol test reads the same on either.
 */
export class ReplyQueue {
  /** Every message received so far, parsed from JSON. */
  readonly received: Record<string, unknown>[] = [];
  readonly #waiters: (() => void)[] = [];
  #read = 0;

  constructor(readonly what: string) {}

  /** Records one message (JSON text) and wakes whoever waits for it. */
  push(json: string): void {
    this.received.push(JSON.parse(json) as Record<string, unknown>);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** The next message not yet read. */
  async next(timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length <= this.#read) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${this.what} within ${timeoutMs} ms`);
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
}
