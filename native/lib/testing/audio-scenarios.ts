/**
 * Audio scenarios, run like the camera's (scenarios.ts) in a child process on
 * the virtual board; each takes JSON arguments and returns a JSON result.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { AudioCapture } from "../audio-capture.js";
import { listAudioDevices } from "../audio-devices.js";
import { AudioPlayback } from "../audio-playback.js";
import type { AudioCaptureOptions, AudioPacket, AudioPlaybackOptions } from "../audio-types.js";
import { readOggOpus, writeOggOpus } from "./ogg-opus.js";
import { resources } from "./scenarios.js";
import { realtimeUs } from "./realtime.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const ctx = (err as { context?: unknown }).context;
    return JSON.stringify({ name: err.name, message: err.message, context: ctx });
  }
  return String(err);
}

export interface PacketRecord {
  size: number;
  captureTimeUs: number;
  samples: number;
  arrivalUs: number;
}

interface CaptureArgs {
  options: AudioCaptureOptions;
  /** Stop after this many packets (or when the time runs out). */
  packets: number;
  /** Give up after this long. */
  timeoutMs?: number;
  /** Write the packets here as Ogg Opus. */
  out?: string;
  /** stop() after this many packets, and start() again 200 ms later. */
  restartAfter?: number;
  /** The board's control file, and what to write into it after so many packets. */
  control?: string;
  faultsAt?: { after: number; write: string }[];
}

/** Captures packets, noting xruns, stalls and errors with when they came (packet index). */
async function audioCapture(args: CaptureArgs): Promise<unknown> {
  const c = AudioCapture.open(args.options);
  const packets: PacketRecord[] = [];
  const data: Buffer[] = [];
  const events: string[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = realtimeUs();
  await new Promise<void>((done) => {
    const timer = setTimeout(done, args.timeoutMs ?? 20_000);
    const finish = (): void => {
      clearTimeout(timer);
      done();
    };
    c.on("packet", (p: AudioPacket) => {
      if (packets.length >= args.packets) return; // the rest of the last batch
      packets.push({
        size: p.data.length,
        captureTimeUs: p.captureTimeUs,
        samples: p.samples,
        arrivalUs: realtimeUs(),
      });
      data.push(p.data);
      for (const f of args.faultsAt ?? []) {
        if (f.after === packets.length && args.control !== undefined) {
          writeFileSync(args.control, f.write);
        }
      }
      if (packets.length === args.restartAfter) {
        c.stop();
        events.push(`restart@${packets.length}`);
        setTimeout(() => {
          c.start();
        }, 200);
      }
      if (packets.length >= args.packets) finish();
    });
    c.on("xrun", (n) => events.push(`xrun:${n}@${packets.length}`));
    c.on("stall", (ms) => events.push(`stall:${ms >= 50 ? "ok" : ms}@${packets.length}`));
    c.on("error", (e) => events.push(`error:${describeError(e)}`));
    c.on("unplugged", () => events.push("unplugged"));
    c.on("closed", () => {
      events.push("closed");
      finish();
    });
    c.start();
  });
  const result = {
    negotiated: c.negotiated,
    packets,
    stats: c.stats(),
    events: [...events],
    cpuUs: process.cpuUsage(cpu0),
    wallUs: realtimeUs() - t0,
  };
  c.close();
  if (args.out !== undefined) {
    writeFileSync(
      args.out,
      writeOggOpus({
        channels: c.negotiated.channels,
        preSkip: c.negotiated.lookahead,
        packets: data,
        frameSamples: c.negotiated.frameSamples,
      }),
    );
  }
  return result;
}

interface PlaybackArgs {
  options: AudioPlaybackOptions;
  /** Ogg Opus file whose packets are played. */
  input: string;
  /** Packet indices that are never pushed (a lossy network). */
  lose?: number[];
  /** Swap each pair of packets (a reordering network). */
  reorder?: boolean;
  /** Push with RTP timestamps (default true). */
  timestamps?: boolean;
  /** Also push these bytes as a packet (bad input). */
  garbage?: number[][];
  /** Keep playing this long after the last push. */
  tailMs?: number;
}

/** Pushes an Ogg Opus file's packets at real-time pace, on absolute deadlines. */
async function audioPlayback(args: PlaybackArgs): Promise<unknown> {
  const { packets } = readOggOpus(readFileSync(args.input));
  const p = AudioPlayback.open(args.options);
  const events: string[] = [];
  p.on("xrun", (n) => events.push(`xrun:${n}`));
  p.on("error", (e) => events.push(`error:${describeError(e)}`));
  p.on("unplugged", () => events.push("unplugged"));
  p.start();
  const order = packets.map((_, i) => i);
  if (args.reorder === true) {
    for (let i = 0; i + 1 < order.length; i += 2) {
      [order[i], order[i + 1]] = [order[i + 1] ?? 0, order[i] ?? 0];
    }
  }
  const refused: number[] = [];
  for (const bytes of args.garbage ?? []) {
    if (!p.push(Buffer.from(bytes))) refused.push(-1);
  }
  const t0 = performance.now();
  for (let k = 0; k < order.length; k++) {
    const wait = t0 + k * 20 - performance.now();
    if (wait > 0) await sleep(wait);
    const i = order[k] ?? 0;
    if (args.lose?.includes(i) === true) continue;
    const packet = packets[i] ?? Buffer.alloc(0);
    const ok = args.timestamps === false ? p.push(packet) : p.push(packet, (i * 960) >>> 0);
    if (!ok) refused.push(i);
  }
  await sleep(args.tailMs ?? 400);
  const result = {
    negotiated: p.negotiated,
    packets: packets.length,
    stats: p.stats(),
    events,
    refused,
  };
  p.close();
  return result;
}

interface UnplugArgs {
  kind: "capture" | "playback";
  device: string;
  control: string;
}

/** Unplugs the card mid-stream through the control file, then replugs it and opens again. */
async function audioUnplug(args: UnplugArgs): Promise<unknown> {
  const base = resources();
  const events: string[] = [];
  let pushed = 0;
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no unplug (${events.join(",")})`)), 15_000);
    const watch = (s: AudioCapture | AudioPlayback): void => {
      s.on("error", (e) => events.push(`error:${describeError(e)}`));
      s.on("unplugged", () => events.push("unplugged"));
      s.on("closed", () => {
        events.push("closed");
        clearTimeout(timer);
        done();
      });
    };
    if (args.kind === "capture") {
      const c = AudioCapture.open({ device: args.device });
      watch(c);
      let n = 0;
      c.on("packet", () => {
        if (++n === 10) writeFileSync(args.control, "unplug:dev=audio");
      });
      c.start();
    } else {
      const p = AudioPlayback.open({ device: args.device });
      watch(p);
      p.start();
      setTimeout(() => {
        writeFileSync(args.control, "unplug:dev=audio");
      }, 300);
      const silence = Buffer.from([0xf8, 0xff, 0xfe]); // a 20 ms Opus CELT silence frame
      const feed = setInterval(() => {
        if (p.closed) clearInterval(feed);
        else if (p.push(silence)) pushed++;
      }, 20);
    }
  });
  const afterUnplug = resources();
  writeFileSync(args.control, "# replugged");
  let reopened = false;
  let lastError = "";
  for (let i = 0; i < 50 && !reopened; i++) {
    try {
      const c =
        args.kind === "capture"
          ? AudioCapture.open({ device: args.device })
          : AudioPlayback.open({ device: args.device });
      c.close();
      reopened = true;
    } catch (e) {
      lastError = describeError(e);
      await sleep(100);
    }
  }
  return { events, pushed, base, afterUnplug, reopened, lastError };
}

interface CloseArgs {
  device: string;
  cycles: number;
}

/** Closes while streaming (from a packet handler, with packets queued) and cycles open/close. */
async function audioCloseDuring(args: CloseArgs): Promise<unknown> {
  // First use loads alsa-lib's configuration (kept for the process's life).
  for (let i = 0; i < 3; i++) {
    AudioCapture.open({ device: args.device }).close();
    AudioPlayback.open({ device: args.device }).close();
  }
  await sleep(50);
  const base = resources();
  const a = AudioCapture.open({ device: args.device });
  let afterCloseA = 0;
  let closedA = 0;
  a.on("closed", () => closedA++);
  await new Promise<void>((done) => {
    a.on("packet", () => {
      if (a.closed) afterCloseA++;
      a.close();
      a.close();
      done();
    });
    a.start();
  });
  const b = AudioCapture.open({ device: args.device });
  let afterCloseB = 0;
  b.on("packet", () => {
    if (b.closed) afterCloseB++;
  });
  b.start();
  const until = Date.now() + 200;
  while (Date.now() < until) {
    // Busy on purpose: the JS thread lags while the native worker keeps encoding.
  }
  const queuedAtClose = b.stats().queueDepth;
  b.close();
  const p = AudioPlayback.open({ device: args.device });
  p.start();
  p.push(Buffer.from([0xf8, 0xff, 0xfe]));
  p.close();
  p.close();
  const pushAfterClose = p.push(Buffer.from([0xf8, 0xff, 0xfe]));
  const cycle = async (i: number): Promise<void> => {
    const c = AudioCapture.open({ device: args.device });
    const q = AudioPlayback.open({ device: args.device });
    c.start();
    q.start();
    await sleep(i % 5);
    q.close();
    c.close();
  };
  // Warm-up cycles first: RSS then measures what the cycles keep, not the
  // JIT and heap growth of the code's first runs.
  for (let i = 0; i < 20; i++) await cycle(i);
  await sleep(100);
  const cycleBase = resources();
  for (let i = 0; i < args.cycles; i++) await cycle(i);
  await sleep(300);
  return {
    closedA,
    afterCloseA,
    afterCloseB,
    queuedAtClose,
    pushAfterClose,
    base,
    cycleBase,
    end: resources(),
  };
}

interface OpenErrorArgs {
  kind: "capture" | "playback";
  options: unknown;
}

function audioOpenError(args: OpenErrorArgs): Promise<unknown> {
  const before = resources();
  try {
    const s =
      args.kind === "capture"
        ? AudioCapture.open(args.options as AudioCaptureOptions)
        : AudioPlayback.open(args.options as AudioPlaybackOptions);
    s.close();
    return Promise.resolve({ thrown: false });
  } catch (e) {
    return Promise.resolve({
      thrown: true,
      error: JSON.parse(describeError(e)) as unknown,
      isTypeError: e instanceof TypeError,
      fdsBefore: before.fds,
      fdsAfter: resources().fds,
    });
  }
}

function audioList(): Promise<unknown> {
  return Promise.resolve(listAudioDevices());
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface BenchArgs {
  device: string;
  seconds: number;
}

/** make bench: capture->JS latency and CPU per second of audio, after a 1 s warm-up. */
async function audioBench(args: BenchArgs): Promise<unknown> {
  const c = AudioCapture.open({ device: args.device });
  const latencies: number[] = [];
  let first = 0;
  let cpu0 = process.cpuUsage();
  await new Promise<void>((done) => {
    c.on("packet", (p) => {
      if (first === 0) first = p.captureTimeUs;
      if (p.captureTimeUs - first < 1_000_000) {
        cpu0 = process.cpuUsage();
        return;
      }
      latencies.push(realtimeUs() - p.captureTimeUs);
      if (latencies.length >= args.seconds * 50) done();
    });
    c.start();
  });
  const cpu = process.cpuUsage(cpu0);
  const stats = c.stats();
  c.close();
  latencies.sort((a, b) => a - b);
  return {
    packets: latencies.length,
    latencyP50Us: percentile(latencies, 50),
    latencyP95Us: percentile(latencies, 95),
    encodeTimeMeanUs: stats.encodeTimeMeanUs,
    cpuMsPerAudioSecond: (cpu.user + cpu.system) / 1000 / (latencies.length / 50),
    dropped: stats.packetsDropped,
    xruns: stats.xruns,
  };
}

export const audioScenarios: Record<string, (args: never) => Promise<unknown>> = {
  audioCapture,
  audioPlayback,
  audioUnplug,
  audioCloseDuring,
  audioOpenError,
  audioList,
  audioBench,
};
