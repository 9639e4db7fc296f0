/**
 * Starts a lab's reaper (reaper.ts) and asks it to remove the lab.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { compiledScript } from "./compiled.js";
import { NetLabError } from "./errors.js";
import { holdOpen } from "./shell.js";

export interface ReaperProcess {
  readonly pid: number;
  /** Asks for the lab's removal and waits until it is done; false if the reaper was gone. */
  removeLab(timeoutMs?: number): Promise<boolean>;
}

export async function startReaper(dir: string): Promise<ReaperProcess> {
  // Its own process group: a Ctrl-C for the owner does not reach it.
  const child = spawn(process.execPath, [compiledScript("reaper.js"), dir], {
    detached: true,
    stdio: ["pipe", "pipe", "inherit"],
  }) as unknown as ChildProcessWithoutNullStreams;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdin.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", () => resolve());
    child.once("exit", (code) =>
      reject(new NetLabError(`the lab's reaper did not start (exit ${code})`)),
    );
  });
  // The lab must not keep its owner alive: when the owner ends, the pipe closes and the reaper cleans.
  child.unref();
  for (const s of [child.stdin, child.stdout]) holdOpen(s, false);
  return {
    pid: child.pid ?? 0,
    removeLab: async (timeoutMs = 30_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      child.stdin.end("close\n");
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const done = await Promise.race([exited.then(() => true), timedOut]);
      clearTimeout(timer);
      return done;
    },
  };
}
