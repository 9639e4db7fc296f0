import { once } from "node:events";
import { beforeAll, describe, expect, it } from "vitest";
import type { AccessUnit } from "./access-unit.js";
import { AccessUnitSplitter, type SplitUnit } from "./access-unit-splitter.js";
import { PipeSource } from "./pipe-source.js";
import { encodeTestStream, testClipCommand, type ClipOptions } from "../testing/test-clip.js";

/** The shared test clip's ffmpeg command, as a shell command line for the pipe. */
function clipCommand(options: ClipOptions): string {
  return testClipCommand({ width: 320, height: 240, gop: 10, ...options }).join(" ");
}

function nalTypes(au: Buffer): number[] {
  const types: number[] = [];
  for (let i = 0; i + 4 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 0 && au[i + 3] === 1)
      types.push((au[i + 4] ?? 0) & 0x1f);
  }
  return types;
}

/** Pictures an access unit starts: VCL NAL units with first_mb_in_slice == 0. */
function pictureStarts(au: Buffer): number {
  let n = 0;
  for (let i = 0; i + 5 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 0 && au[i + 3] === 1) {
      const t = (au[i + 4] ?? 0) & 0x1f;
      if ((t === 1 || t === 5) && ((au[i + 5] ?? 0) & 0x80) !== 0) n++;
    }
  }
  return n;
}

describe("access unit splitter", () => {
  let stream: Buffer = Buffer.alloc(0);
  beforeAll(async () => {
    stream = await encodeTestStream({ width: 320, height: 240, frames: 30, gop: 10 });
  });

  it("cuts a real stream into one access unit per picture whatever the chunking", () => {
    for (const chunk of [1, 7, 188, 4096, stream.length]) {
      const units: SplitUnit[] = [];
      const splitter = new AccessUnitSplitter((u) => units.push(u));
      for (let i = 0; i < stream.length; i += chunk) splitter.push(stream.subarray(i, i + chunk));
      splitter.flush();
      expect(units.length).toBe(30);
      expect(units.every((u) => pictureStarts(u.data) === 1)).toBe(true);
      expect(units.filter((u) => u.keyframe).length).toBe(3);
    }
  });

  it("puts SPS and PPS in the same access unit as the IDR they precede", () => {
    const units: SplitUnit[] = [];
    const splitter = new AccessUnitSplitter((u) => units.push(u));
    splitter.push(stream);
    splitter.flush();
    const first = nalTypes(units[0]?.data ?? Buffer.alloc(0));
    expect(first).toContain(7);
    expect(first).toContain(8);
    expect(first).toContain(5);
  });

  it("emits a picture on flush without waiting for the next one", () => {
    const units: SplitUnit[] = [];
    const splitter = new AccessUnitSplitter((u) => units.push(u));
    const firstCut = stream.indexOf(Buffer.from([0, 0, 0, 1]), 1000);
    splitter.push(stream.subarray(0, firstCut));
    expect(units.length).toBe(0);
    splitter.flush();
    expect(units.length).toBe(1);
    expect(units[0]?.keyframe).toBe(true);
  });

  // Regressions found by fuzzing (docs/fuzzing.md, corpus access-unit-splitter).
  it("emits nothing when a pipe prints text and never a start code", () => {
    const units: SplitUnit[] = [];
    const splitter = new AccessUnitSplitter((u) => units.push(u));
    // Taken for a NAL unit behind a 4-byte start code, "e" (0x65) reads as
    // an IDR slice: a key frame of garbage to every viewer.
    splitter.push(Buffer.from("Usage: rpicam-vid [options]\n"));
    splitter.flush();
    expect(units).toEqual([]);
  });

  it("keeps a one-byte NAL unit after a 3-byte start code at the end of the stream", () => {
    const units: SplitUnit[] = [];
    const splitter = new AccessUnitSplitter((u) => units.push(u));
    // IDR slice, non-IDR slice, end of sequence (type 10, one byte).
    splitter.push(Buffer.from("00000001658884000001410000010a", "hex"));
    splitter.flush();
    const nals = units.flatMap((u) => nalTypes(u.data));
    expect(nals).toEqual([5, 1, 10]);
  });

  it("refuses input with no start code instead of growing without bound", () => {
    const splitter = new AccessUnitSplitter(() => undefined, { maxAccessUnitBytes: 1024 });
    expect(() => splitter.push(Buffer.alloc(2048, 0x41))).toThrow(
      /no access unit boundary within 1024 bytes/,
    );
  });
});

describe("pipe source", () => {
  it("streams access units from a command with capture times and key frames", async () => {
    const source = new PipeSource({
      command: clipCommand({ frames: 20, realtime: true }),
      info: { width: 320, height: 240, fps: 30 },
    });
    const frames: AccessUnit[] = [];
    source.on("frame", (f) => frames.push(f));
    const errored = once(source, "error");
    await source.start();
    const [err] = (await errored) as [Error];
    // ffmpeg exits after 20 frames: the source reports it and ends.
    expect(err.message).toMatch(/pipe command exited with code 0/);
    expect(frames.length).toBe(20);
    expect(frames[0]?.keyframe).toBe(true);
    expect(frames.every((f) => pictureStarts(f.data) === 1)).toBe(true);
    const times = frames.map((f) => f.captureTimeUs);
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] ?? 0))).toBe(true);
    expect(Math.abs((times[0] ?? 0) / 1000 - Date.now())).toBeLessThan(60_000);
    await source.close();
  });

  it("keeps the slices of one picture together when x264 writes several slices", async () => {
    const source = new PipeSource({
      command: clipCommand({ frames: 10, extra: ["-slices", "4"] }),
      info: { width: 320, height: 240, fps: 30 },
    });
    const frames: AccessUnit[] = [];
    source.on("frame", (f) => frames.push(f));
    // events.once() would reject on the "error" that reports the exit.
    const ended = new Promise((resolve) => source.once("end", () => resolve(undefined)));
    source.on("error", () => undefined);
    await source.start();
    await ended;
    const pictures = new Set(frames.map((f) => f.captureTimeUs));
    expect(pictures.size).toBeLessThanOrEqual(10);
    expect(frames.reduce((n, f) => n + pictureStarts(f.data), 0)).toBe(10);
    await source.close();
  });

  it("reports a command that cannot run with its exit code and stderr", async () => {
    const source = new PipeSource({
      command: "camgw-no-such-command --x",
      info: { width: 2, height: 2, fps: 1 },
    });
    const errored = once(source, "error");
    await source.start();
    const [err] = (await errored) as [Error];
    expect(err.message).toMatch(/exited with code 127: .*not found/);
    await source.close();
  });

  it("reports output that is not H.264 and stops the command", async () => {
    const source = new PipeSource({ command: "yes", info: { width: 2, height: 2, fps: 1 } });
    const errored = once(source, "error");
    await source.start();
    const [err] = (await errored) as [Error];
    expect(err.message).toMatch(/pipe output is not H.264/);
    await once(source, "end");
    expect(source.running).toBe(false);
    await source.close();
  });

  it("can be stopped, restarted and closed twice", async () => {
    const source = new PipeSource({
      command: clipCommand({ frames: 100000, realtime: true }),
      info: { width: 320, height: 240, fps: 30 },
    });
    source.on("error", (e) => {
      throw e;
    });
    await source.start();
    await once(source, "frame");
    await source.stop();
    expect(source.running).toBe(false);
    await source.start();
    await once(source, "frame");
    await source.close();
    await source.close();
    expect(source.running).toBe(false);
  });
});
