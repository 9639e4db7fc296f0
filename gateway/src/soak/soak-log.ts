import { createWriteStream, type WriteStream } from "node:fs";
import { clock } from "./report-table.js";

/**
 * The soak's timeline file (build/soak/soak-SEED.log): what the soak did and
 * every line the gateway printed, each with the time since the soak's start
 * (mm:ss.s), so a freeze in the verdict can be laid beside the gateway's
 * own account of it.
 */
export class SoakLog {
  readonly #out: WriteStream;
  #origin = Date.now();

  constructor(readonly path: string) {
    this.#out = createWriteStream(path);
  }

  /** Times count from now on. */
  start(): void {
    this.#origin = Date.now();
  }

  /** One line from `who` ("soak", "gateway") at `at` (ms since the epoch; default now). */
  line(who: string, text: string, at = Date.now()): void {
    const ms = at - this.#origin;
    const tenth = Math.floor((Math.abs(ms) % 1000) / 100);
    this.#out.write(
      `${ms < 0 ? "-" : ""}${clock(Math.abs(ms) - (Math.abs(ms) % 1000))}.${tenth} ${who}: ${text}\n`,
    );
  }

  /** Every line of a stream, as it comes. */
  follow(who: string, stream: NodeJS.ReadableStream | null): void {
    let pending = "";
    stream?.on("data", (c: Buffer) => {
      pending += c.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) if (l.trim() !== "") this.line(who, l);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#out.end(resolve));
  }
}
