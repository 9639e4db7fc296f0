/**
 * Runs a test scenario (scenarios.ts) in a child node process on the virtual
 * board: LD_PRELOAD of firmware-sim's libcamgw-vdev.so plus CAMGW_SIM_*; the
 * vitest process itself is never preloaded. The scenario is bundled with
 * esbuild (the child runs plain node on .ts sources) and prints its result
 * as JSON on the last line of stdout.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { locateAddon } from "../binding.js";

export type Profile = "pi4" | "pi5" | "uvc-h264";

export interface BoardOptions {
  profile: Profile;
  faults?: string;
  seed?: number;
  controlFile?: string;
  timeoutMs?: number;
  /** Extra environment for the child. */
  env?: Record<string, string>;
}

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "..", "..", "..");
export const simLibrary = join(repoRoot, "firmware-sim", "build", "libcamgw-vdev.so");

let bundled: string | undefined;

/**
 * The scenarios bundled for the board's child processes, under build/ (a
 * temporary folder was left behind whenever vitest ended a worker without
 * its exit handlers: dozens per run). Written under a name of its own and
 * renamed into place, so workers bundling at once never read half a file.
 */
function bundle(): string {
  if (bundled === undefined) {
    const dir = join(repoRoot, "build", "native-test");
    mkdirSync(dir, { recursive: true });
    const out = join(dir, "scenarios.mjs");
    const temp = join(dir, `.scenarios.${process.pid}.${randomBytes(4).toString("hex")}.mjs`);
    buildSync({
      entryPoints: [join(here, "scenarios.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: temp,
      logLevel: "error",
    });
    renameSync(temp, out);
    bundled = out;
  }
  return bundled;
}

export interface ScenarioRun<T> {
  result: T;
  stderr: string;
}

export async function runOnBoard<T>(
  scenario: string,
  args: unknown,
  board: BoardOptions,
): Promise<ScenarioRun<T>> {
  if (!existsSync(simLibrary)) {
    throw new Error(`virtual board library missing: ${simLibrary} (run \`make sim-build\`)`);
  }
  // Hand the child the addon found from here (the ASan build when the tests
  // run under it), not whatever a walk up from build/native-test finds.
  const addonPath = locateAddon();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // An ASan build of the addon needs libasan loaded before everything else
    // (native.mk sets CAMGW_TEST_PRELOAD_FIRST); the sim library comes after it.
    LD_PRELOAD: [process.env.CAMGW_TEST_PRELOAD_FIRST ?? "", simLibrary].join(" ").trim(),
    CAMGW_SIM_PROFILE: board.profile,
    CAMGW_NATIVE_ADDON: addonPath,
    ...board.env,
  };
  if (board.faults !== undefined) env.CAMGW_SIM_FAULTS = board.faults;
  if (board.seed !== undefined) env.CAMGW_SIM_SEED = String(board.seed);
  if (board.controlFile !== undefined) env.CAMGW_SIM_CONTROL = board.controlFile;
  const child = spawn(process.execPath, ["--expose-gc", bundle(), scenario, JSON.stringify(args)], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timeoutMs = board.timeoutMs ?? 30_000;
  const code = await new Promise<number | null>((res) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (c, signal) => {
      clearTimeout(timer);
      res(c ?? (signal === null ? null : -1));
    });
  });
  const last = stdout.trim().split("\n").pop() ?? "";
  if (code !== 0) {
    throw new Error(
      `scenario ${scenario} exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`,
    );
  }
  return { result: JSON.parse(last) as T, stderr };
}
