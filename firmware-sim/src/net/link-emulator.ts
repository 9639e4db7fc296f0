/**
 * One camgw-linkem process (firmware-sim/linkem): a link between two
 * namespaces through TUN devices, with its impairment per direction. Its
 * stdin is a pipe from this process: when the lab's owner dies, even by
 * SIGKILL, the pipe closes and the emulator exits, taking its devices along.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { findUp } from "../../../gateway/src/paths.js";
import { NetLabError } from "./errors.js";
import { holdOpen } from "./shell.js";

/** The emulator binary, built by `make sim-build` into firmware-sim/build. */
export function linkemPath(): string {
  const relative = join("firmware-sim", "build", "camgw-linkem");
  const root = findUp(relative, dirname(fileURLToPath(import.meta.url)));
  return root ? join(root, relative) : relative;
}

/** Counters of one direction, as camgw-linkem prints them. */
export interface DirectionStats {
  in: number;
  inBytes: number;
  lost: number;
  queueDrops: number;
  downDrops: number;
  overflow: number;
  reordered: number;
  out: number;
  outBytes: number;
  txErrors: number;
  queued: number;
}

/** "ab" is from the site (namespace A) toward the core: "up". */
export interface LinkStats {
  up: DirectionStats;
  down: DirectionStats;
}

export interface LinkEmulatorOptions {
  name: string;
  /** The site's namespace and device (A), and the core's (B). */
  nsA: string;
  devA: string;
  nsB: string;
  devB: string;
  seed: number;
  binary?: string;
}

export class LinkEmulator {
  private readonly pending: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  private stderr = "";
  private closed = false;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.stderr.on("data", (c: Buffer) => (this.stderr += c.toString()));
    createInterface({ input: child.stdout }).on("line", (line) =>
      this.pending.shift()?.resolve(line),
    );
    child.once("exit", (code, signal) => {
      const err = new NetLabError(
        `link ${name}: camgw-linkem ended (${signal ?? `exit ${code}`}): ${this.stderr.trim()}`,
        { link: name },
      );
      for (const p of this.pending.splice(0)) p.reject(err);
    });
    // An EPIPE after the emulator ended is reported through the pending replies.
    child.stdin.on("error", () => undefined);
  }

  static async start(options: LinkEmulatorOptions): Promise<LinkEmulator> {
    const binary = options.binary ?? linkemPath();
    if (!existsSync(binary)) {
      throw new NetLabError(`${binary} is missing: run \`make sim-build\``, { binary });
    }
    const child = spawn(
      binary,
      [
        "--ns-a",
        `/run/netns/${options.nsA}`,
        "--dev-a",
        options.devA,
        "--ns-b",
        `/run/netns/${options.nsB}`,
        "--dev-b",
        options.devB,
        "--seed",
        String(options.seed),
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const link = new LinkEmulator(options.name, child);
    const ready = await link.reply();
    if (ready !== "ready") throw new NetLabError(`link ${options.name}: unexpected "${ready}"`);
    // The owner must be free to exit with a lab still up: the reaper cleans then.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) holdOpen(s, false);
    return link;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  private reply(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        reject(
          new NetLabError(`link ${this.name}: camgw-linkem is not running: ${this.stderr.trim()}`),
        );
        return;
      }
      this.pending.push({ resolve, reject });
    });
  }

  private async command(line: string): Promise<string> {
    const answer = this.reply();
    // Held open only while an answer is awaited: an idle lab never keeps its owner running.
    holdOpen(this.child.stdout, true);
    this.child.stdin.write(line + "\n");
    const text = await answer.finally(() => {
      if (this.pending.length === 0) holdOpen(this.child.stdout, false);
    });
    if (text.startsWith("error")) {
      throw new NetLabError(`link ${this.name}: "${line}": ${text.slice(6)}`, { link: this.name });
    }
    return text;
  }

  /** Replaces one direction's impairment (camgw-linkem `set` parameters). */
  async set(direction: "up" | "down", params: string): Promise<void> {
    await this.command(`set ${direction === "up" ? "ab" : "ba"} ${params}`.trim());
  }

  async stats(): Promise<LinkStats> {
    const line = await this.command("stats");
    const raw = JSON.parse(line.slice("stats ".length)) as {
      ab: DirectionStats;
      ba: DirectionStats;
    };
    return { up: raw.ab, down: raw.ba };
  }

  /** Ends the emulator (its TUN devices disappear). Safe to call twice. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.child.stdin.end();
    }
    await this.exited;
  }
}
