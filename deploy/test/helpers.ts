/**
 * Shared by the deploy tests: run commands, find or build the .deb, unpack
 * it. The tests drive the real scripts and real Debian tools; nothing is
 * mocked. When run by `make deploy-test` the prerequisites are already built
 * (CAMGW_DEPLOY_PREBUILT=1); run alone, a test builds what it needs with make.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const deployOut = join(repoRoot, "build/deploy");
export const sysroot = join(deployOut, "sysroot-arm64");

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit. */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    ...opts,
  });
  if (r.error) throw r.error;
  return {
    status: r.status ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}

/** Runs a command and throws with its output when it fails. */
export function must(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Makes sure `make TARGET` has run (unless the caller already did). */
export function ensureMade(...targets: string[]): void {
  if (process.env.CAMGW_DEPLOY_PREBUILT === "1") return;
  must("make", ["-s", ...targets], { stdio: ["ignore", "pipe", "pipe"] });
}

/** The newest dist/camgw_*_arm64.deb. */
export function findDeb(): string {
  const dist = join(repoRoot, "dist");
  const debs = readdirSync(dist)
    .filter((f) => /^camgw_.+_arm64\.deb$/.test(f))
    .map((f) => join(dist, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const deb = debs[0];
  if (deb === undefined) throw new Error("no dist/camgw_*_arm64.deb: run make dist");
  return deb;
}

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `camgw-${label}-`));
}

/** Unpacks a .deb's files (not its control area) into a new directory. */
export function extractDeb(deb: string): string {
  const dir = tempDir("deb");
  must("dpkg-deb", ["-x", deb, dir]);
  return dir;
}

/** Every regular file under dir, as paths relative to it. */
export function walk(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = join(rel, ent.name);
    if (ent.isDirectory()) out.push(...walk(dir, p));
    else if (ent.isFile()) out.push(p);
  }
  return out;
}

/** A command's stdout as bytes (for binary files read out of images). */
export function mustBytes(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { cwd: repoRoot, maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${String(r.status)}`);
  return r.stdout;
}
