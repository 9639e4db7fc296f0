/**
 * The commands the lab runs (ip, nft, sysctl, openssl), each failure a
 * NetLabError with the command and what it printed.
 */
import { spawn } from "node:child_process";
import { NetLabError } from "./errors.js";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects (spawn errors become code 127). */
export function runCommand(
  cmd: string,
  args: readonly string[],
  input?: string,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", (err) => resolve({ code: 127, stdout, stderr: stderr + err.message }));
    child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

/** Runs a command; rejects with NetLabError (naming `what`) when it fails. */
export async function mustRun(
  what: string,
  cmd: string,
  args: readonly string[],
  input?: string,
): Promise<string> {
  const r = await runCommand(cmd, args, input);
  if (r.code !== 0) {
    throw new NetLabError(
      `${what}: ${cmd} ${args.join(" ")} failed: ${r.stderr.trim() || `exit ${r.code}`}`,
      {
        command: cmd,
      },
    );
  }
  return r.stdout;
}

/** `ip` commands, one a line, in a namespace (null: where the lab runs, for namespaces and veths). */
export function ipBatch(
  what: string,
  ns: string | null,
  lines: readonly string[],
): Promise<string> {
  if (lines.length === 0) return Promise.resolve("");
  return mustRun(what, "ip", [...(ns ? ["-n", ns] : []), "-batch", "-"], lines.join("\n") + "\n");
}

/** The argv that runs `cmd args` inside a namespace. */
export function inNamespace(ns: string, cmd: string, args: readonly string[] = []): string[] {
  return ["ip", "netns", "exec", ns, cmd, ...args];
}

export function sysctl(
  ns: string,
  settings: Readonly<Record<string, string | number>>,
): Promise<string> {
  const kv = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  const [cmd = "", ...args] = inNamespace(ns, "sysctl", ["-q", "-w", ...kv]);
  return mustRun(`settings in ${ns}`, cmd, args);
}

export function nft(ns: string, ruleset: string): Promise<string> {
  const [cmd = "", ...args] = inNamespace(ns, "nft", ["-f", "-"]);
  return mustRun(`firewall in ${ns}`, cmd, args, ruleset);
}

/**
 * Whether a child's pipe keeps this process running (a net.Socket
 * underneath; the stream types do not say so). The lab unrefs its helpers'
 * pipes so an idle lab never keeps its owner alive.
 */
export function holdOpen(stream: unknown, on: boolean): void {
  const s = stream as { ref?: () => void; unref?: () => void };
  if (on) s.ref?.();
  else s.unref?.();
}
