/**
 * What a person reads about the broker link in the log: a problem once, with
 * what to do about it, then reminders at growing intervals with the count,
 * never a line per attempt (those are debug). A broker down for a night
 * leaves a few dozen lines, not thousands.
 */
import type { BrokerErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import type { LinkRetry, MqttLink } from "./mqtt-link.js";
import { redact } from "./mqtt-connection.js";

export interface OutageReportOptions {
  /** Gap from the first line to the first reminder; default 10 s. */
  firstReminderMs?: number;
  /** Longest gap between reminders; default 10 min. */
  maxReminderMs?: number;
  now?: () => number;
}

/** What to check, by what keeps the link down. */
const HINTS: Record<BrokerErrorCode, string> = {
  unreachable: "is the broker running, and is --broker right?",
  refused: "check --broker-username and --broker-password, and the broker's ACL",
  tls: "check --broker-ca (the CA that signed the broker's certificate)",
  subscription: "the broker's ACL must let this device read <prefix>/<device-id>/rx/+",
  publish: "the broker's ACL must let this device publish <prefix>/<device-id>/#",
  closed: "the link was closed",
};

/** Decides which failed attempts become log lines; pure apart from the clock. */
export class OutageReport {
  readonly #firstReminderMs: number;
  readonly #maxReminderMs: number;
  readonly #now: () => number;
  /** When the reported outage began; undefined while none is. */
  #since: number | undefined;
  #kind: BrokerErrorCode | undefined;
  #lastLineAt = 0;
  #gapMs = 0;
  #attempts = 0;

  constructor(options: OutageReportOptions = {}) {
    this.#firstReminderMs = options.firstReminderMs ?? 10_000;
    this.#maxReminderMs = options.maxReminderMs ?? 600_000;
    this.#now = options.now ?? Date.now;
  }

  /** A failed attempt; the line to log, or null when it is no news. */
  failed(retry: LinkRetry): string | null {
    const now = this.#now();
    const { error } = retry;
    this.#attempts = retry.attempt;
    const next = `next attempt in ${duration(retry.delayMs)}`;
    if (this.#since === undefined || error.code !== this.#kind) {
      // A new problem, or a different one (unreachable, then refused): news.
      this.#since ??= now;
      this.#kind = error.code;
      this.#lastLineAt = now;
      this.#gapMs = this.#firstReminderMs;
      return `${error.message} (${HINTS[error.code]}); retrying in the background, ${next}`;
    }
    if (now - this.#lastLineAt < this.#gapMs) return null;
    this.#lastLineAt = now;
    this.#gapMs = Math.min(this.#gapMs * 2, this.#maxReminderMs);
    return `still no broker after ${attempts(retry.attempt)} in ${duration(now - this.#since)}: ${error.message}; ${next}`;
  }

  /** The link is up; a line when an outage had been reported, else null. */
  recovered(): string | null {
    if (this.#since === undefined) return null;
    const line = `back after ${attempts(this.#attempts)} in ${duration(this.#now() - this.#since)}`;
    this.#since = undefined;
    this.#kind = undefined;
    return line;
  }
}

/** Logs the link's life for a person: connected, the outage report (a lost connection starts one), each attempt at debug. */
export function reportLink(link: MqttLink, log: Logger, report = new OutageReport()): void {
  const where = `${redact(link.url)} as ${link.prefix}/${link.deviceId}`;
  link.on("connected", () => {
    const back = report.recovered();
    log.info(`signaling: connected to ${where}${back ? ` (${back})` : ""}`);
  });
  link.on("retrying", (retry) => {
    log.debug(
      `signaling: attempt ${retry.attempt} failed: ${retry.error.message}; next attempt in ${duration(retry.delayMs)}`,
    );
    const line = report.failed(retry);
    if (line) log.warn(`signaling: ${line}`);
  });
  link.on("error", (err) => {
    log.warn(`signaling: ${err.message}`);
  });
}

function attempts(n: number): string {
  return n === 1 ? "1 failed attempt" : `${n} failed attempts`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
