/**
 * A long-running program inside a lab namespace (coturn, Mosquitto, the
 * UDP agent): started in its own process group, so a Ctrl-C meant for the
 * lab's owner does not kill it before the lab shuts down in order, and not
 * holding the owner's event loop open; the reaper ends it with the lab.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { NetLabError } from "./errors.js";
import { inNamespace } from "./shell.js";

export interface Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stop(): Promise<void>;
}

export function startDaemon(ns: string, cmd: string, args: readonly string[]): Daemon {
  const [ip = "", ...rest] = inNamespace(ns, cmd, args);
  const child = spawn(ip, rest, { stdio: "ignore", detached: true });
  child.unref();
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  return {
    child,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Waits until every pattern appears in a log file the daemon writes. */
export async function waitForLog(
  what: string,
  daemon: Daemon,
  logFile: string,
  patterns: readonly RegExp[],
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  for (;;) {
    text = await readFile(logFile, "utf8").catch(() => "");
    if (patterns.every((p) => p.test(text))) return;
    if (
      daemon.child.exitCode !== null ||
      daemon.child.signalCode !== null ||
      Date.now() > deadline
    ) {
      throw new NetLabError(`${what} did not start:\n${text.split("\n").slice(-15).join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
