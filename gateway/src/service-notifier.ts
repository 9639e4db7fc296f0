import { notifySystemd, systemdWatchdogMs } from "../../native/lib/index.js";
import type { Logger } from "./logger.js";

/**
 * Tells systemd how the service is (deploy/package/camgw.service is
 * Type=notify with WatchdogSec): READY=1 once the gateway serves, WATCHDOG=1
 * at half the watchdog period while the event loop runs, STOPPING=1 on
 * shutdown. A hung event loop stops the pings and systemd restarts the
 * service; a camera that is away is not a hang (sessions wait for it), so it
 * does not stop them. Outside systemd every call does nothing.
 */
export class ServiceNotifier {
  private timer: NodeJS.Timeout | undefined;
  private failed = false;

  constructor(
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The gateway serves: say so, and start the watchdog pings if systemd asked for them. */
  ready(status: string): void {
    this.send({ READY: "1", STATUS: status });
    const periodMs = systemdWatchdogMs(this.env);
    if (periodMs === null || this.timer) return;
    this.timer = setInterval(() => this.send({ WATCHDOG: "1" }), Math.max(500, periodMs / 2));
    this.timer.unref();
  }

  /** Shutting down: no more pings, and systemd waits for the exit instead of a watchdog. */
  stopping(): void {
    this.close();
    this.send({ STOPPING: "1" });
  }

  /** Stops the pings; safe to call twice. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private send(fields: Record<string, string>): void {
    try {
      notifySystemd(fields, this.env);
    } catch (err) {
      // Logged once: a socket that refuses one datagram refuses them all.
      if (!this.failed) this.log.warn(`systemd notification failed: ${(err as Error).message}`);
      this.failed = true;
    }
  }
}
