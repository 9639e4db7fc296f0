/**
 * Test scenarios run in a child process on the virtual board (see board.ts).
 * Each takes JSON arguments and prints one JSON result line.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { CameraPipeline, listDevices } from "../index.js";
import type { EncodedFrame, PipelineOptions } from "../types.js";
import { audioScenarios } from "./audio-scenarios.js";
import { bench } from "./bench-scenario.js";
import { layerScenarios } from "./layer-scenarios.js";
import { sizeStepScenarios } from "./size-step-scenarios.js";
import { snapshotScenarios } from "./snapshot-scenarios.js";
import { recordFrame, type FrameRecord } from "./frame-record.js";
import { realtimeUs } from "./realtime.js";

export interface StreamArgs {
  options: PipelineOptions;
  frames: number;
  /** Write the concatenated access units here. */
  out?: string;
  /** Before frame index `at` arrives, set the bitrate. */
  bitrate?: { at: number; kbps: number }[];
  /** Request a key frame after these frame indices. */
  keyAfter?: number[];
  /** Before frame index `at` arrives, set the frame rate (CameraPipeline.setFrameRate). */
  frameRate?: { at: number; fps: number }[];
}

export interface StreamResult {
  negotiated: CameraPipeline["negotiated"];
  zeroCopy: boolean;
  frames: FrameRecord[];
  stats: ReturnType<CameraPipeline["stats"]>;
  errors: string[];
  /** When each key frame request was made (CLOCK_REALTIME µs), after which frame index. */
  keyRequests: { after: number; atUs: number }[];
  cpuUs: { user: number; system: number };
  wallUs: number;
}

export interface ResourceCount {
  fds: number;
  threads: number;
  rssKb: number;
}

function collectGarbage(): void {
  // board.ts starts the child with --expose-gc.
  (globalThis as { gc?: () => void }).gc?.();
}

export function resources(): ResourceCount {
  // Collect JS garbage (frame Buffers) so RSS reflects native memory.
  collectGarbage();
  const status = readFileSync("/proc/self/status", "utf8");
  const rss = /VmRSS:\s+(\d+)/.exec(status);
  return {
    fds: readdirSync("/proc/self/fd").length,
    threads: readdirSync("/proc/self/task").length,
    rssKb: rss === null ? 0 : Number(rss[1]),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Collects garbage and lets Node finish freeing it before resources() reads
 * RSS. A frame's `data` Buffer adopts the addon's memory (an external
 * buffer), which Node hands back from an immediate after the GC that
 * collected the Buffer, not during it (node_buffer.cc,
 * CallbackInfo::OnBackingStoreFree, Node 20): read at once, RSS would count
 * collected frames as if they leaked.
 */
async function settle(): Promise<void> {
  collectGarbage();
  await sleep(50);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const ctx = (err as { context?: unknown }).context;
    return JSON.stringify({ name: err.name, message: err.message, context: ctx });
  }
  return String(err);
}

async function stream(args: StreamArgs): Promise<StreamResult> {
  const p = CameraPipeline.open(args.options);
  const frames: FrameRecord[] = [];
  const data: Buffer[] = [];
  const errors: string[] = [];
  const keyRequests: { after: number; atUs: number }[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = realtimeUs();
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`only ${frames.length} of ${args.frames} frames arrived`));
    }, 20_000);
    p.on("error", (e) => errors.push(describe(e)));
    p.on("frame", (f: EncodedFrame) => {
      frames.push(recordFrame(f));
      data.push(f.data);
      const i = frames.length;
      for (const b of args.bitrate ?? []) if (b.at === i) p.setBitrate(b.kbps);
      for (const r of args.frameRate ?? []) if (r.at === i) p.setFrameRate(r.fps);
      if (args.keyAfter?.includes(i - 1) === true) {
        keyRequests.push({ after: i - 1, atUs: realtimeUs() });
        p.requestKeyFrame();
      }
      if (i >= args.frames) {
        clearTimeout(timer);
        done();
      }
    });
    p.start();
  });
  const result: StreamResult = {
    negotiated: p.negotiated,
    zeroCopy: p.zeroCopy,
    frames,
    stats: p.stats(),
    errors,
    keyRequests,
    cpuUs: process.cpuUsage(cpu0),
    wallUs: realtimeUs() - t0,
  };
  p.close();
  if (args.out !== undefined) writeFileSync(args.out, Buffer.concat(data));
  return result;
}

async function list(): Promise<unknown> {
  return Promise.resolve(listDevices());
}

interface OpenErrorArgs {
  options: unknown;
}

function openError(args: OpenErrorArgs): Promise<unknown> {
  const before = resources();
  try {
    const p = CameraPipeline.open(args.options as PipelineOptions);
    p.close();
    return Promise.resolve({ thrown: false });
  } catch (e) {
    return Promise.resolve({
      thrown: true,
      error: JSON.parse(describe(e)) as unknown,
      isTypeError: e instanceof TypeError,
      stack: e instanceof Error ? e.stack : "",
      fdsBefore: before.fds,
      fdsAfter: resources().fds,
    });
  }
}

interface CycleArgs {
  /** Cycle i uses options[i % options.length]. */
  options: PipelineOptions[];
  cycles: number;
  framesPerCycle: number;
  warmup: number;
}

interface FrameRateArgs {
  options: PipelineOptions;
  fps: number[];
}

/** setFrameRate with each of `fps` on an open pipeline: what each did. */
function frameRates(args: FrameRateArgs): Promise<unknown> {
  const p = CameraPipeline.open(args.options);
  try {
    return Promise.resolve(
      args.fps.map((fps) => {
        try {
          p.setFrameRate(fps);
          return { fps, thrown: false };
        } catch (e) {
          const error = JSON.parse(describe(e)) as { name: string; message: string };
          return { fps, thrown: true, isTypeError: e instanceof TypeError, ...error };
        }
      }),
    );
  } finally {
    p.close();
  }
}

async function oneCycle(options: PipelineOptions, frames: number): Promise<void> {
  const p = CameraPipeline.open(options);
  await new Promise<void>((done, fail) => {
    let n = 0;
    const timer = setTimeout(() => fail(new Error("no frames")), 10_000);
    p.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    p.on("frame", () => {
      if (++n === frames) {
        clearTimeout(timer);
        done();
      }
    });
    p.start();
  });
  p.close();
}

async function cycles(args: CycleArgs): Promise<unknown> {
  const pick = (i: number): PipelineOptions => {
    const o = args.options[i % args.options.length];
    if (o === undefined) throw new Error("cycles: no options");
    return o;
  };
  for (let i = 0; i < args.warmup; i++) await oneCycle(pick(i), args.framesPerCycle);
  await settle();
  const base = resources();
  for (let i = 0; i < args.cycles; i++) {
    await oneCycle(pick(i), args.framesPerCycle);
    // Collect as an app's own allocations would make V8 do. This loop
    // allocates so little JS that V8 would otherwise wait for its
    // external-memory limit (tens of MB of frames); the frames' bytes, which
    // the worker allocated and the GC frees in its own order, then leave
    // holes glibc cannot trim, and RSS measures when V8 collected, not what
    // leaked. Measured over 1,000 cycles: without this, +21-26 MB (+11-13 MB
    // while each frame's Buffer was a copy), no frame left alive; with it,
    // +7-8 MB (copy: +11 MB).
    if (i % 10 === 9) collectGarbage();
  }
  await settle();
  return { base, end: resources(), cycles: args.cycles };
}

interface CloseArgs {
  options: PipelineOptions;
}

async function closeDuring(args: CloseArgs): Promise<unknown> {
  await oneCycle(args.options, 1);
  await sleep(50);
  const base = resources();
  // 1. Close from inside a frame handler.
  const a = CameraPipeline.open(args.options);
  let afterCloseA = 0;
  let closedA = 0;
  a.on("closed", () => closedA++);
  await new Promise<void>((done) => {
    a.on("frame", () => {
      if (a.closed) afterCloseA++;
      a.close();
      a.close();
      done();
    });
    a.start();
  });
  // 2. Close while frames sit in the native queue: block the JS thread so the
  // worker queues several, then close before they are delivered.
  const b = CameraPipeline.open({ ...args.options, queueDepth: 64 });
  let afterCloseB = 0;
  let beforeCloseB = 0;
  b.on("frame", () => {
    if (b.closed) afterCloseB++;
    else beforeCloseB++;
  });
  b.start();
  const until = Date.now() + 300;
  while (Date.now() < until) {
    // Busy on purpose: the JS thread lags while the native worker keeps capturing.
  }
  const queuedAtClose = b.stats().queueDepth;
  b.close();
  await sleep(300);
  return {
    closedA,
    afterCloseA,
    afterCloseB,
    beforeCloseB,
    queuedAtClose,
    base,
    end: resources(),
  };
}

interface LagArgs {
  options: PipelineOptions;
  blockMs: number;
  frames: number;
}

async function lag(args: LagArgs): Promise<unknown> {
  const p = CameraPipeline.open(args.options);
  const keys: boolean[] = [];
  let blocked = false;
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error("too few frames")), 20_000);
    p.on("frame", (f) => {
      keys.push(f.keyframe);
      if (!blocked && keys.length === 3) {
        blocked = true;
        const until = Date.now() + args.blockMs;
        while (Date.now() < until) {
          // The JS thread lags on purpose; the worker must drop, not block or grow.
        }
      }
      if (keys.length >= args.frames) {
        clearTimeout(timer);
        done();
      }
    });
    p.start();
  });
  const stats = p.stats();
  p.close();
  return { keys, stats };
}

interface UnplugArgs {
  options: PipelineOptions;
  control: string;
  unplug: string;
  replug: string;
  afterFrames: number;
}

async function unplug(args: UnplugArgs): Promise<unknown> {
  const base = resources();
  const p = CameraPipeline.open(args.options);
  const events: string[] = [];
  let frames = 0;
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no unplug event (${events.join(",")})`)),
      15_000,
    );
    p.on("frame", () => {
      if (++frames === args.afterFrames) writeFileSync(args.control, args.unplug);
    });
    p.on("error", (e) => events.push(`error:${describe(e)}`));
    p.on("unplugged", () => events.push("unplugged"));
    p.on("closed", () => {
      events.push("closed");
      clearTimeout(timer);
      done();
    });
    p.start();
  });
  const afterUnplug = resources();
  writeFileSync(args.control, args.replug);
  // Reopen once the device is back (the sim may take a moment to re-appear).
  let reopened = false;
  let lastError = "";
  for (let i = 0; i < 50 && !reopened; i++) {
    try {
      await oneCycle(args.options, 3);
      reopened = true;
    } catch (e) {
      lastError = describe(e);
      await sleep(100);
    }
  }
  return { events, frames, base, afterUnplug, reopened, lastError, end: resources() };
}

const scenarios: Record<string, (args: never) => Promise<unknown>> = {
  bench,
  list,
  stream,
  openError,
  frameRates,
  cycles,
  closeDuring,
  lag,
  unplug,
  ...audioScenarios,
  ...snapshotScenarios,
  ...layerScenarios,
  ...sizeStepScenarios,
};

async function main(): Promise<void> {
  const name = process.argv[2] ?? "";
  const run = scenarios[name];
  if (run === undefined) throw new Error(`unknown scenario ${name}`);
  const args = JSON.parse(process.argv[3] ?? "{}") as never;
  const result = await run(args);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
