import { spawn, type ChildProcess } from "node:child_process";
import type { ProbeReport } from "../probe/probe.js";
import { CAMGW_BIN } from "../testing/gateway-process.js";

/**
 * One soak viewer: `camgw probe --events --json` in a process of its own,
 * as a person's browser would be (its decoding costs the soak's own event
 * loop nothing, and a stuck viewer cannot stall the sampling). It decodes,
 * asks for key frames on decode errors and recovers like the web viewer
 * (probe/recovering-viewer.ts); its report, printed when it is told to
 * leave (SIGINT), lists its freezes.
 */
export interface ViewerLogin {
  broker: string;
  deviceId: string;
  username: string;
  password: string;
}

export type ViewerOutcome =
  | { kind: "report"; report: ProbeReport; early: boolean }
  /** It never got to watch (exited without a report). */
  | { kind: "no-report"; code: number | null; output: string };

const STOP_TIMEOUT_MS = 20_000;

export class SoakViewer {
  readonly #child: ChildProcess;
  #out = "";
  #err = "";
  #stopping = false;
  /** Outages it came back from so far (its `recovered` events). */
  recoveries = 0;
  /** Resolves when the process exits, told to or not. */
  readonly exited: Promise<number | null>;

  constructor(
    readonly slot: number,
    login: ViewerLogin,
  ) {
    this.#child = spawn(
      process.execPath,
      [
        CAMGW_BIN,
        "probe",
        login.deviceId,
        "--broker",
        login.broker,
        "--username",
        login.username,
        // One argument: a password may start with "-", which parseArgs would
        // take for an option.
        `--password=${login.password}`,
        "--json",
        "--events",
        "--seconds",
        "86400",
        "--ice-host-addresses",
        "127.0.0.1",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child.stdout?.on("data", (c: Buffer) => (this.#out += c.toString()));
    let pending = "";
    this.#child.stderr?.on("data", (c: Buffer) => {
      pending += c.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) this.#onLine(line);
    });
    this.exited = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
  }

  /** True while its process runs. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** True once it was told to leave (or killed): an exit then is no surprise. */
  get leaving(): boolean {
    return this.#stopping;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  #onLine(line: string): void {
    if (!line.startsWith("{")) {
      this.#err += `${line}\n`;
      return;
    }
    try {
      const event = JSON.parse(line) as { event?: string };
      if (event.event === "recovered") this.recoveries++;
    } catch {
      this.#err += `${line}\n`;
    }
  }

  /** Asks it to leave (SIGINT: the probe hangs up and prints its report), then reads it. */
  async stop(): Promise<ViewerOutcome> {
    const early = this.#child.exitCode !== null || this.#child.signalCode !== null;
    this.#stopping = true;
    if (!early) this.#child.kill("SIGINT");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    try {
      return { kind: "report", report: JSON.parse(this.#out) as ProbeReport, early };
    } catch {
      return { kind: "no-report", code, output: `${this.#out}${this.#err}`.trim() };
    }
  }

  /** Ends it at once (Ctrl-C of the soak); safe to call twice. */
  kill(): void {
    this.#stopping = true;
    if (this.#child.exitCode === null && this.#child.signalCode === null)
      this.#child.kill("SIGKILL");
  }
}
