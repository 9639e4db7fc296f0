import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NativeDeviceError } from "../../../native/lib/index.js";
import { SourceError } from "../errors.js";
import { encodeTestStream } from "../testing/test-clip.js";
import { PipeSource } from "./pipe-source.js";
import type { SourceStatus } from "./source.js";
import { problemOf, SupervisedSource, type SupervisedSourceOptions } from "./supervised-source.js";

/**
 * The supervisor over real pipe commands (/bin/sh): a command that exits, one
 * that goes quiet, one that never works. The camera side (unplug, a stalled
 * encoder) runs through `camgw run` on the virtual board in
 * gateway/src/faults.e2e.test.ts.
 */

const info = { width: 320, height: 240, fps: 30 };
let dir: string;
let clip: string;
const sources: SupervisedSource[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "camgw-supervised-"));
  clip = join(dir, "clip.h264");
  writeFileSync(clip, await encodeTestStream({ width: 320, height: 240, frames: 20, gop: 10 }));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const s of sources.splice(0)) await s.close();
});

/** A supervised pipe source running `command`, with test-sized timings, and what it emitted. */
function supervise(command: string, options: Partial<SupervisedSourceOptions> = {}) {
  const open = (): PipeSource => new PipeSource({ command, info });
  const source = new SupervisedSource({
    name: "pipe:test",
    info,
    open,
    initial: open(),
    startGraceMs: 2000,
    noticeMs: 200,
    restartMs: 500,
    backoff: { initialMs: 100, maxMs: 400 },
    ...options,
  });
  sources.push(source);
  const states: SourceStatus[] = [];
  const seen = { frames: 0, errors: [] as Error[], ended: false };
  source.on("state", (s) => states.push(s));
  source.on("frame", () => seen.frames++);
  source.on("error", (e) => seen.errors.push(e));
  source.on("end", () => (seen.ended = true));
  source.on("warning", () => undefined);
  return { source, states, seen };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("SupervisedSource over a pipe command", () => {
  it("runs a command that exits again, tells its viewers, and keeps counting frames", async () => {
    const { source, states, seen } = supervise(`cat ${clip}; sleep 0.3; exit 3`);
    await source.start();
    await until("two runs of the command", () => (source.stats().reopens ?? 0) >= 2);
    await until("frames of the third run", () => seen.frames >= 60);
    expect(states).toContainEqual({ state: "unavailable", reason: "command-exited" });
    expect(states).toContainEqual({ state: "live" });
    expect(seen.errors).toEqual([]);
    expect(seen.ended).toBe(false);
    const stats = source.stats();
    // Counters add up across the commands run: none goes back to 0.
    expect(stats.framesDelivered).toBeGreaterThanOrEqual(60);
    expect(stats.outages).toBeGreaterThanOrEqual(2);
    expect(stats.outageMs).toBeGreaterThan(0);
  });

  it("restarts a command that goes quiet, after telling its viewers", async () => {
    const { source, states, seen } = supervise(`cat ${clip}; exec sleep 60`);
    await source.start();
    await until("a restart", () => (source.stats().stallRestarts ?? 0) >= 1);
    await until("frames of the second run", () => seen.frames >= 40);
    expect(states.slice(0, 2)).toEqual([
      { state: "recovering", reason: "command-quiet" },
      { state: "live" },
    ]);
    expect(source.status).toEqual({ state: "live" });
  });

  it("waits longer and longer between runs of a command that keeps failing", async () => {
    const log = join(dir, "runs.log");
    writeFileSync(log, "");
    const { source } = supervise(`date +%s%N >> ${log}; exit 1`, { lostAfterMs: 60_000 });
    await source.start();
    await until("five runs", () => readFileSync(log, "utf8").trim().split("\n").length >= 5);
    await source.stop();
    const runs = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((ns) => Number(BigInt(ns) / 1_000_000n));
    const gaps = runs.slice(1).map((t, i) => t - (runs[i] ?? 0));
    // Timers never fire early: each gap is at least its backoff step
    // (100, 200, 400, 400 ms after the first retry, which is immediate).
    const steps = [0, 100, 200, 400, 400];
    for (const [i, gap] of gaps.slice(0, 4).entries())
      expect(gap).toBeGreaterThanOrEqual(steps[i] ?? 0);
    console.log(`pipe restart gaps (ms): ${gaps.join(", ")}`);
    expect(source.status).toEqual({ state: "unavailable", reason: "command-exited" });
  });

  it("gives up after lostAfterMs: error and end, which end the viewers' sessions", async () => {
    const { source, seen } = supervise("exit 1", { lostAfterMs: 600 });
    await source.start();
    await until("giving up", () => seen.ended);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]?.message).toMatch(/has not been live for .* min \(command-exited\)/);
    expect(source.stats().givenUp).toBe(1);
    expect(source.running).toBe(false);
  });

  it("stops retrying when stopped, and starts afresh on the next start", async () => {
    const { source, seen } = supervise(`cat ${clip}; exit 1`);
    await source.start();
    await until("frames", () => seen.frames > 0);
    await source.stop();
    const runs = source.stats().reopens ?? 0;
    await new Promise((r) => setTimeout(r, 600));
    expect(source.stats().reopens).toBe(runs);
    const before = seen.frames;
    await source.start();
    await until("frames again", () => seen.frames > before);
  });
});

describe("problemOf", () => {
  it("reads an absent device from the addon's errno, through causes", () => {
    const gone = new NativeDeviceError("open: ENOENT on /dev/video0", {
      device: "/dev/video0",
      ioctl: "open",
      errno: 2,
      errnoName: "ENOENT",
    });
    expect(problemOf(gone, "error")).toBe("unplugged");
    expect(problemOf(new SourceError("no camera", {}, { cause: gone }), "error")).toBe("unplugged");
    const busy = new NativeDeviceError("open: EBUSY", {
      ...gone.context,
      errno: 16,
      errnoName: "EBUSY",
    });
    expect(problemOf(busy, "error")).toBe("error");
    expect(problemOf(new SourceError("x", { reason: "command-exited" }), "error")).toBe(
      "command-exited",
    );
    expect(problemOf(undefined, "command-quiet")).toBe("command-quiet");
  });
});
