/**
 * Keeps the device's retained status true whatever the broker lets others
 * do (issue 10: a client faked or wiped it, and it stayed wrong until the
 * device reconnected). The link subscribes to its own status topic and hands
 * every status message here; one that does not say what the device says
 * (ignoring `ts`) is answered by publishing the device's status again, at
 * most once a second (a later restore waits for the second to pass), so a
 * fight with another client cannot flood the broker.
 */

export interface StatusGuardOptions {
  /** Publishes the device's status again. */
  restore: () => void;
  /** Least time between two restores; default 1000 ms. */
  minIntervalMs?: number;
}

/** A status payload without its timestamp, canonical; undefined when it is not a JSON object. */
function withoutTs(payload: string): string | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const copy = { ...(value as Record<string, unknown>) };
    delete copy.ts;
    return JSON.stringify(copy);
  } catch {
    return undefined;
  }
}

export class StatusGuard {
  readonly #restore: () => void;
  readonly #minIntervalMs: number;
  #expected: string | undefined;
  #lastRestore = -Infinity;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: StatusGuardOptions) {
    this.#restore = options.restore;
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
  }

  /** The device published this status (its echo, or a copy with another ts, is no news). */
  published(payload: string): void {
    this.#expected = withoutTs(payload);
  }

  /**
   * A message on the device's status topic; empty is a wipe. Returns true
   * when it was not the device's status and a restore is done or timed.
   */
  observed(payload: string): boolean {
    if (this.#expected === undefined) return false;
    if (payload !== "" && withoutTs(payload) === this.#expected) return false;
    if (this.#timer) return true;
    const wait = this.#lastRestore + this.#minIntervalMs - performance.now();
    if (wait <= 0) {
      this.#fire();
    } else {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#fire();
      }, wait);
    }
    return true;
  }

  /** Stops a timed restore (the link closes or reconnects). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    this.#lastRestore = performance.now();
    this.#restore();
  }
}
