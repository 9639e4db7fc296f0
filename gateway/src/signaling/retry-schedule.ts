/**
 * The MQTT link's reconnection bookkeeping: why the current attempt failed
 * (the first error it reported), how many attempts have failed since the
 * link was last up, and the one timer for the next attempt. MqttLink drives
 * it from MQTT.js's events; nothing here touches MQTT.
 */
import type { BrokerError } from "../errors.js";
import { backoffDelay, type BackoffOptions } from "./mqtt-connection.js";

/** One failed attempt (or a lost connection) and when the link tries again. */
export interface LinkRetry {
  error: BrokerError;
  /** Whether the broker said no (refused, tls, subscription) rather than not answering: retrying alone will not fix it. */
  fatal: boolean;
  /** Failed attempts since the link was last connected, this one included. */
  attempt: number;
  /** When the next attempt starts. */
  delayMs: number;
}

export class RetrySchedule {
  readonly #backoff: BackoffOptions | undefined;
  #attempt = 0;
  #error: { error: BrokerError; fatal: boolean } | undefined;
  #problem: BrokerError | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(backoff?: BackoffOptions) {
    this.#backoff = backoff;
  }

  /** True while the timer for the next attempt runs. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Why the last attempt failed, until one succeeds. */
  get problem(): BrokerError | undefined {
    return this.#problem;
  }

  /** An error of the current attempt; the first says why it fails, later ones are its echoes. */
  noteError(error: BrokerError, fatal: boolean): void {
    this.#error ??= { error, fatal };
  }

  /**
   * The current attempt failed, or the connection was lost: arms the one
   * timer that calls `next` after the backoff delay and says what happened.
   * `otherwise` is the error when the attempt reported none (a socket closed
   * without a word).
   */
  fail(otherwise: BrokerError, next: () => void): LinkRetry {
    const { error, fatal } = this.#error ?? { error: otherwise, fatal: false };
    this.#error = undefined;
    this.#problem = error;
    this.#attempt += 1;
    const delayMs = backoffDelay(this.#attempt, this.#backoff);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      next();
    }, delayMs);
    return { error, fatal, attempt: this.#attempt, delayMs };
  }

  /** Connected: the count and the problem start afresh. */
  succeeded(): void {
    this.#attempt = 0;
    this.#error = undefined;
    this.#problem = undefined;
  }

  /** Drops the pending attempt, if any; nothing waits for it. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
