/**
 * Helpers for the virtual board's own tests: build the library and the C
 * test programs (make is a no-op when they are current), and run a program
 * under the preload with a given profile and faults.
 */
import { execFile, execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { simEnv, type SimOptions } from "./sim-env.js";

const here = dirname(fileURLToPath(import.meta.url));
export const simRoot = resolve(here, "..");
export const buildDir = join(simRoot, "build");
export const libraryPath = join(buildDir, "libcamgw-vdev.so");

let built = false;

/** Builds libcamgw-vdev.so and the test programs once per test process. */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync("make", ["-s", "-j2", "-C", join(simRoot, "vdev")], { stdio: "inherit" });
  built = true;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` on the virtual board; never rejects on a non-zero exit. */
export function runOnBoard(
  cmd: string,
  args: string[],
  options: SimOptions = {},
  timeoutMs = 60_000,
): Promise<RunResult> {
  ensureBuilt();
  const env = { ...process.env, ...simEnv({ library: libraryPath, ...options }) };
  return new Promise((resolvePromise) => {
    execFile(
      cmd,
      args,
      { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** Runs one of the C test programs (firmware-sim/vdev/tests) and parses its JSON. */
export async function runProgram<T>(
  name: string,
  args: string[],
  options: SimOptions = {},
): Promise<T> {
  const r = await runOnBoard(join(buildDir, "tests", name), args, options);
  if (r.code !== 0) {
    throw new Error(`${name} ${args.join(" ")} exited with ${String(r.code)}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as T;
}
