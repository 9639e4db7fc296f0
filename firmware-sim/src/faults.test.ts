import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../gateway/src/errors.js";
import { parseDurationMs, parseFaults } from "./faults.js";
import { ensureBuilt, libraryPath, runProgram } from "./test-support.js";

interface FaultRun {
  seqs: number[];
  frames: number;
  eio: number;
  enodev: number;
  pollerr: number;
  reopened: number;
  unplug_ms: number;
  replug_ms: number;
}

const dir = mkdtempSync(join(tmpdir(), "camgw-sim-faults-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fault list syntax", () => {
  it("accepts every fault with its parameters", () => {
    const f = parseFaults(
      "unplug:at=2s:for=500ms:dev=all, drop:rate=0.1; eio:rate=0.05\nstall:ms=300:at=1.5s,drift:ppm=-150,enc-lag:ms=40,enc-stop:at=3s,corrupt:rate=0.01",
    );
    expect(f.map((x) => x.name)).toEqual([
      "unplug",
      "drop",
      "eio",
      "stall",
      "drift",
      "enc-lag",
      "enc-stop",
      "corrupt",
    ]);
    expect(f[0]?.params).toEqual({ at: "2s", for: "500ms", dev: "all" });
  });

  it("accepts the sound card's faults: unplug of the card, stalls and xruns per stream", () => {
    const f = parseFaults(
      "unplug:at=1s:dev=audio, stall:ms=200:dev=mic, stall:ms=50:at=2s:dev=speaker, xrun, xrun:at=3s:dev=speaker",
    );
    expect(f.map((x) => [x.name, x.params.dev])).toEqual([
      ["unplug", "audio"],
      ["stall", "mic"],
      ["stall", "speaker"],
      ["xrun", undefined],
      ["xrun", "speaker"],
    ]);
  });

  it("reads durations in ms or s", () => {
    expect(parseDurationMs("250ms")).toBe(250);
    expect(parseDurationMs("1.5s")).toBe(1500);
    expect(parseDurationMs("40")).toBe(40);
    expect(parseDurationMs("soon")).toBeUndefined();
  });

  // Found by fuzzing the library's parser (docs/fuzzing.md, corpus
  // vdev-faults/duration-overflow): converting such a duration to int64_t
  // nanoseconds was undefined behaviour.
  it("refuses a duration past int64_t nanoseconds, as the library does", async () => {
    expect(parseDurationMs("9000000000s")).toBe(9e12);
    expect(parseDurationMs("9300000000s")).toBeUndefined();
    expect(() => parseFaults(`stall:ms=${"1".repeat(40)}`)).toThrow(/ms must be a number/);
    ensureBuilt();
    const stderr = await new Promise<string>((resolve) => {
      execFile(
        "v4l2-ctl",
        ["--list-devices"],
        {
          env: {
            ...process.env,
            LD_PRELOAD: libraryPath,
            CAMGW_SIM_FAULTS: `stall:ms=${"1".repeat(40)}`,
          },
        },
        (_err, _stdout, err) => resolve(err),
      );
    });
    expect(stderr).toContain("ms must be a number of milliseconds");
  });

  it.each([
    ["explode", /unknown fault/],
    ["drop", /needs rate=/],
    ["drop:rate=1.5", /rate must be a number from 0 to 1/],
    ["drop:ms=3", /drop takes rate=/],
    ["stall:at=1s", /needs ms=/],
    ["unplug:at=soon", /at must be a duration/],
    ["unplug:dev=printer", /dev must be camera, encoder, audio or all/],
    ["unplug:dev=mic", /dev must be camera, encoder, audio or all/],
    ["stall:ms=5:dev=encoder", /dev must be camera, mic, speaker or audio/],
    ["xrun:dev=camera", /dev must be mic, speaker or audio/],
    ["xrun:ms=3", /xrun takes at=, dev=/],
    ["drop:rate=0.1:dev=camera", /drop takes rate=/],
    ["drift:ppm=20000", /ppm must be a number from -10000 to 10000/],
    ["eio:rate", /parameters are key=value/],
  ])("rejects %s with a precise message", (spec, message) => {
    expect(() => parseFaults(spec)).toThrow(ConfigError);
    expect(() => parseFaults(spec)).toThrow(message);
  });

  it("has the library refuse a bad list loudly and inject nothing", async () => {
    ensureBuilt();
    const stderr = await new Promise<string>((resolve) => {
      execFile(
        "v4l2-ctl",
        ["--list-devices"],
        { env: { ...process.env, LD_PRELOAD: libraryPath, CAMGW_SIM_FAULTS: "drop:rate=7" } },
        (_err, _stdout, err) => resolve(err),
      );
    });
    expect(stderr).toContain(
      'CAMGW_SIM_FAULTS: fault "drop:rate=7": rate must be a number from 0 to 1',
    );
  });

  it("has the library read the sound card's faults as the harness does", async () => {
    ensureBuilt();
    const refused = (faults: string) =>
      new Promise<string>((resolve) => {
        execFile(
          "arecord",
          ["-l"],
          { env: { ...process.env, LD_PRELOAD: libraryPath, CAMGW_SIM_FAULTS: faults } },
          (_err, _stdout, err) => resolve(err),
        );
      });
    expect(await refused("xrun:dev=camera")).toContain(
      'CAMGW_SIM_FAULTS: fault "xrun:dev=camera": dev must be mic, speaker or audio',
    );
    expect(await refused("stall:ms=5:dev=encoder")).toContain(
      "dev must be camera, mic, speaker or audio",
    );
    expect(await refused("xrun:at=1s:dev=mic,stall:ms=5:dev=audio,unplug:at=9s:dev=all")).toBe("");
  });
});

describe("faults on the virtual camera", () => {
  it("unplugs (ENODEV, POLLERR) and replugs so that a new open streams again", async () => {
    const r = await runProgram<FaultRun>("cam_faults", ["/dev/video0", "2.5"], {
      faults: "unplug:at=800ms:for=700ms",
    });
    expect(r.enodev).toBe(1);
    expect(r.pollerr).toBeGreaterThanOrEqual(1);
    expect(r.reopened).toBe(1);
    expect(r.unplug_ms).toBeGreaterThanOrEqual(700);
    expect(r.replug_ms).toBeGreaterThanOrEqual(1400);
    expect(r.frames).toBeGreaterThan(20);
  });

  it("drops frames at the given rate, the same frames for the same seed", async () => {
    const run = () =>
      runProgram<FaultRun>("cam_faults", ["/dev/video0", "2"], {
        faults: "drop:rate=0.3",
        seed: 7,
      });
    const [a, b] = [await run(), await run()];
    const lost = (s: number[]) => (s.at(-1) ?? 0) + 1 - s.length;
    const rate = lost(a.seqs) / ((a.seqs.at(-1) ?? 0) + 1);
    expect(rate).toBeGreaterThan(0.1);
    expect(rate).toBeLessThan(0.5);
    const common = Math.min(a.seqs.length, b.seqs.length) - 2;
    expect(a.seqs.slice(0, common)).toEqual(b.seqs.slice(0, common));
  });

  it("fails DQBUF with EIO at the given rate and keeps streaming", async () => {
    const r = await runProgram<FaultRun>("cam_faults", ["/dev/video0", "2"], {
      faults: "eio:rate=0.2",
      seed: 3,
    });
    expect(r.eio).toBeGreaterThan(2);
    expect(r.frames).toBeGreaterThan(20);
  });

  it("takes faults from the control file while running", async () => {
    const control = join(dir, "control");
    writeFileSync(control, "");
    const running = runProgram<FaultRun>("cam_faults", ["/dev/video0", "3"], {
      controlFile: control,
    });
    await new Promise((r) => setTimeout(r, 1000));
    writeFileSync(control, "unplug\n");
    await new Promise((r) => setTimeout(r, 600));
    writeFileSync(control, "# plugged in again\n");
    const r = await running;
    expect(r.enodev).toBe(1);
    expect(r.reopened).toBe(1);
  });

  it("runs the sensor clock fast by the drift in ppm", async () => {
    const c = await runProgram<{ frames: { seq: number; ts_us: number }[] }>(
      "cam_capture",
      ["/dev/video0", "640", "480", "YUYV", "30", "31"],
      { faults: "drift:ppm=9000" },
    );
    const first = c.frames[0];
    const last = c.frames.at(-1);
    if (!first || !last) throw new Error("no frames");
    const perFrame = (last.ts_us - first.ts_us) / (last.seq - first.seq);
    expect(Math.abs(perFrame - (1e6 / 30) * (1 - 0.009))).toBeLessThan(20);
  });

  it("corrupts the encoder's bitstream so that a decoder reports errors", async () => {
    const out = join(dir, "corrupt.h264");
    await runProgram(
      "enc_h264",
      ["/dev/video0", "/dev/video11", "1280", "720", "30", "20", "2000000", out, "dmabuf"],
      { faults: "corrupt:rate=1", seed: 5 },
    );
    const stderr = await new Promise<string>((resolve) => {
      execFile(
        "ffmpeg",
        ["-v", "error", "-f", "h264", "-i", out, "-f", "null", "-"],
        (_e, _o, err) => resolve(err),
      );
    });
    expect(stderr).toMatch(/error|invalid|out of range/i);
  });
});
