import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { SourceError } from "../errors.js";
import { AccessUnitSplitter } from "./access-unit-splitter.js";
import type { H264Source, H264SourceEvents, SourceInfo, SourceStats } from "./source.js";

export interface PipeSourceOptions {
  /** Shell command writing Annex-B H.264 to stdout, e.g. `rpicam-vid --inline -t 0 -o -`. */
  command: string;
  info: SourceInfo;
  /** Idle time after which a buffered picture is taken as complete (ms). */
  idleFlushMs?: number;
  /** Grace period between SIGTERM and SIGKILL on stop (ms). */
  killAfterMs?: number;
}

const STDERR_TAIL = 2048;

/**
 * H.264 from a command's stdout, for cameras the native addon does not drive.
 * Capture time is the arrival time of a picture's first bytes: the command's
 * own capture-to-write delay is invisible from here. Key frames cannot be
 * requested (the command must emit IDRs periodically, e.g. `--intra 30`).
 */
export class PipeSource extends EventEmitter<H264SourceEvents> implements H264Source {
  readonly info: SourceInfo;
  readonly name: string;
  private child: ChildProcess | null = null;
  private stopping = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private pictureStartUs = 0;
  private lastCaptureUs = 0;
  private stderrTail = "";
  private exited: Promise<void> = Promise.resolve();
  private framesDelivered = 0;

  constructor(private readonly options: PipeSourceOptions) {
    super();
    this.info = options.info;
    this.name = `pipe:${options.command}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Only what reaches JavaScript: the command's own capture and encoding are invisible here. */
  stats(): SourceStats {
    return { framesDelivered: this.framesDelivered };
  }

  start(): Promise<void> {
    if (this.closed)
      return Promise.reject(new SourceError("pipe source is closed", { source: this.name }));
    if (this.child) return Promise.resolve();
    this.stopping = false;
    this.stderrTail = "";
    const splitter = new AccessUnitSplitter((unit) => {
      const captureTimeUs = unit.continuation ? this.lastCaptureUs : this.pictureStartUs || nowUs();
      this.lastCaptureUs = captureTimeUs;
      this.pictureStartUs = 0;
      this.framesDelivered += 1;
      this.emit("frame", {
        data: unit.data,
        captureTimeUs,
        keyframe: unit.keyframe,
        width: this.info.width,
        height: this.info.height,
      });
    });
    const child = spawn("/bin/sh", ["-c", this.options.command], {
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so stop() reaches every process of a
      // pipeline (`a | b`), not just the shell.
      detached: true,
    });
    this.child = child;
    return new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (err) => {
        this.child = null;
        reject(
          new SourceError(
            `cannot run pipe command: ${err.message}`,
            { source: this.name },
            { cause: err },
          ),
        );
      });
      child.stdout.on("data", (chunk: Buffer) => {
        if (this.stopping) return;
        if (!this.pictureStartUs) this.pictureStartUs = nowUs();
        try {
          splitter.push(chunk);
        } catch (err) {
          this.fail(`pipe output is not H.264: ${(err as Error).message}`);
          return;
        }
        this.armIdleFlush(splitter);
      });
      child.stderr.on("data", (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL);
      });
      this.exited = new Promise((done) => {
        child.once("close", (code, signal) => {
          this.clearIdle();
          // The command's last picture has no successor to close it.
          if (!this.stopping) splitter.flush();
          this.child = null;
          if (!this.stopping) {
            const how = signal ? `signal ${signal}` : `code ${code ?? "?"}`;
            const tail = this.stderrTail.trim().split("\n").slice(-3).join(" | ");
            this.emit(
              "error",
              new SourceError(`pipe command exited with ${how}${tail ? `: ${tail}` : ""}`, {
                source: this.name,
                code: code ?? undefined,
                reason: "command-exited",
              }),
            );
            this.emit("end");
          }
          done();
        });
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return this.exited;
    this.clearIdle();
    signalGroup(child, "SIGTERM");
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), this.options.killAfterMs ?? 2000);
    await this.exited;
    clearTimeout(timer);
  }

  requestKeyFrame(): void {
    // A pipe cannot be asked for an IDR; the command's own intra period rules.
  }

  setBitrate(_kbps: number): void {
    // Likewise fixed by the command line.
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    this.removeAllListeners();
  }

  private armIdleFlush(splitter: AccessUnitSplitter): void {
    this.clearIdle();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      splitter.flush();
    }, this.options.idleFlushMs ?? 3);
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private fail(message: string): void {
    this.stopping = true;
    this.emit("error", new SourceError(message, { source: this.name, reason: "error" }));
    void this.stop().then(() => this.emit("end"));
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
