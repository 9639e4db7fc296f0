import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findBursts, offsetFromSecondUs } from "../../firmware-sim/src/audio-signal.js";
import { AudioCapture } from "./audio-capture.js";
import type {
  AudioCaptureNegotiated,
  AudioCaptureOptions,
  AudioCaptureStats,
} from "./audio-types.js";
import { NativeDeviceError } from "./errors.js";
import { decodeOggOpus } from "./testing/audio-check.js";
import type { PacketRecord } from "./testing/audio-scenarios.js";
import { runOnBoard } from "./testing/board.js";
import type { ResourceCount } from "./testing/scenarios.js";

const MIC = "hw:CARD=Device,DEV=0";

interface CaptureRun {
  negotiated: AudioCaptureNegotiated;
  packets: PacketRecord[];
  stats: AudioCaptureStats;
  events: string[];
}

const dir = mkdtempSync(join(tmpdir(), "camgw-audio-capture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function steps(packets: PacketRecord[]): number[] {
  return packets.slice(1).map((p, i) => p.captureTimeUs - (packets[i]?.captureTimeUs ?? 0));
}

describe("AudioCapture arguments and errors", () => {
  it("throws TypeError for bad arguments before opening anything", () => {
    const bad: unknown[] = [
      undefined,
      {},
      { device: 3 },
      { device: "" },
      { device: MIC, channels: 3 },
      { device: MIC, bitrate: 100 },
      { device: MIC, application: "music" },
      { device: MIC, complexity: 11 },
      { device: MIC, fec: "yes" },
      { device: MIC, queueDepth: 0 },
      { device: MIC, bufferMs: 1.5 },
    ];
    for (const options of bad) {
      expect(() => AudioCapture.open(options as AudioCaptureOptions)).toThrow(TypeError);
    }
  });

  it("names the call, the errno and the device when the sound card is not there", () => {
    let caught: unknown;
    try {
      AudioCapture.open({ device: "hw:CARD=NoSuchCard,DEV=0" });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NativeDeviceError);
    const err = caught as NativeDeviceError;
    expect(err.context).toEqual({
      device: "hw:CARD=NoSuchCard,DEV=0",
      ioctl: "snd_pcm_open",
      errno: 19,
      errnoName: "ENODEV",
    });
    expect(err.message).toBe("snd_pcm_open: ENODEV (No such device) on hw:CARD=NoSuchCard,DEV=0");
    expect(err.stack).toContain("audio-capture.test.ts");
  });
});

describe("AudioCapture on the virtual board", () => {
  it("encodes 20 ms Opus packets whose capture times put the decoded bursts on whole seconds", async () => {
    const out = join(dir, "mic.opus");
    const { result } = await runOnBoard<CaptureRun>(
      "audioCapture",
      { options: { device: MIC }, packets: 160, out },
      { profile: "pi4" },
    );
    expect(result.negotiated).toMatchObject({ rate: 48000, channels: 1, frameSamples: 960 });
    expect(result.packets.length).toBe(160);
    expect(result.events).toEqual([]);
    // consecutive packets are 20 ms of the device's sample clock apart
    for (const s of steps(result.packets)) expect(Math.abs(s - 20000)).toBeLessThanOrEqual(1);
    for (const p of result.packets) expect(p.samples).toBe(960);

    // ffmpeg's own Opus decoder; sample i was captured at the first packet's time + i / 48 kHz
    const pcm = decodeOggOpus(out, 1);
    const t0 = result.packets[0]?.captureTimeUs ?? 0;
    const onsets = findBursts(pcm, 48000);
    expect(onsets.length).toBeGreaterThanOrEqual(2);
    const offsets = onsets.map((i) => offsetFromSecondUs(t0 + (i * 1e6) / 48000));
    console.log(`burst offsets from whole seconds (µs): ${offsets.map(Math.round).join(", ")}`);
    for (const o of offsets) expect(Math.abs(o)).toBeLessThan(3000);
  });

  it("mixes the mono microphone to stereo when asked for two channels", async () => {
    const out = join(dir, "stereo.opus");
    const { result } = await runOnBoard<CaptureRun>(
      "audioCapture",
      { options: { device: MIC, channels: 2, application: "audio" }, packets: 110, out },
      { profile: "pi5" },
    );
    expect(result.negotiated).toMatchObject({ channels: 2, deviceChannels: 1 });
    const pcm = decodeOggOpus(out, 2);
    const left = pcm.filter((_, i) => i % 2 === 0);
    const right = pcm.filter((_, i) => i % 2 === 1);
    expect(findBursts(left, 48000).length).toBeGreaterThanOrEqual(1);
    expect(findBursts(right, 48000)).toEqual(findBursts(left, 48000));
  });

  it("stops and starts again, with capture times that show the pause", async () => {
    const { result } = await runOnBoard<CaptureRun>(
      "audioCapture",
      { options: { device: MIC }, packets: 60, restartAfter: 30 },
      { profile: "pi4" },
    );
    expect(result.events).toEqual(["restart@30"]);
    expect(result.packets.length).toBe(60);
    const jumps = steps(result.packets).filter((s) => Math.abs(s - 20000) > 1);
    expect(jumps).toHaveLength(1);
    expect(jumps[0]).toBeGreaterThan(200000);
  });

  it("reports an overrun as 'xrun', recovers it with snd_pcm_recover and counts it", async () => {
    const control = join(dir, "xrun-control");
    writeFileSync(control, "");
    const { result } = await runOnBoard<CaptureRun>(
      "audioCapture",
      {
        options: { device: MIC },
        packets: 120,
        control,
        faultsAt: [{ after: 40, write: "xrun:dev=mic" }],
      },
      { profile: "pi4", controlFile: control },
    );
    expect(result.events.filter((e) => e.startsWith("xrun:"))).toHaveLength(1);
    expect(result.stats.xruns).toBe(1);
    expect(result.packets.length).toBe(120);
  });

  it("reports a stall once, then goes on with capture times that show the gap", async () => {
    const control = join(dir, "stall-control");
    writeFileSync(control, "");
    const { result } = await runOnBoard<CaptureRun>(
      "audioCapture",
      {
        options: { device: MIC, stallMs: 300 },
        packets: 120,
        control,
        faultsAt: [{ after: 40, write: "stall:ms=800:dev=mic" }],
      },
      { profile: "pi4", controlFile: control },
    );
    expect(result.events.filter((e) => e.startsWith("stall:"))).toEqual([
      expect.stringMatching(/^stall:ok@\d+$/) as unknown,
    ]);
    expect(result.stats.stalls).toBe(1);
    const jumps = steps(result.packets).filter((s) => Math.abs(s - 20000) > 1);
    expect(jumps).toHaveLength(1);
    expect(Math.abs((jumps[0] ?? 0) - 820000)).toBeLessThanOrEqual(1);
  });

  it("stops cleanly and emits 'unplugged' when the card is unplugged, and opens again after replug", async () => {
    const control = join(dir, "control");
    writeFileSync(control, "");
    const { result } = await runOnBoard<{
      events: string[];
      base: ResourceCount;
      afterUnplug: ResourceCount;
      reopened: boolean;
      lastError: string;
    }>(
      "audioUnplug",
      { kind: "capture", device: MIC, control },
      { profile: "pi4", controlFile: control },
    );
    expect(result.events).toEqual(["unplugged", "closed"]);
    expect(result.afterUnplug.fds).toBe(result.base.fds);
    expect(result.afterUnplug.threads).toBe(result.base.threads);
    expect(result.reopened, result.lastError).toBe(true);
  });

  it("closes safely while streaming and leaves no fd or thread after open/close cycles", async () => {
    const cycles = Number(process.env.CAMGW_NATIVE_CYCLES ?? "1000") >= 1000 ? 200 : 40;
    const { result } = await runOnBoard<{
      closedA: number;
      afterCloseA: number;
      afterCloseB: number;
      queuedAtClose: number;
      pushAfterClose: boolean;
      base: ResourceCount;
      cycleBase: ResourceCount;
      end: ResourceCount;
    }>(
      "audioCloseDuring",
      { device: MIC, cycles },
      // RSS must measure leaks, not glibc's per-thread arenas (see lifecycle.test.ts).
      {
        profile: "pi4",
        timeoutMs: 120_000,
        env: { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "131072" },
      },
    );
    const grewKb = result.end.rssKb - result.cycleBase.rssKb;
    console.log(`RSS growth over ${cycles} capture+playback cycles: ${grewKb} kB`);
    expect(result.closedA).toBe(1);
    expect(result.afterCloseA).toBe(0);
    expect(result.afterCloseB).toBe(0);
    expect(result.queuedAtClose).toBeGreaterThan(0);
    expect(result.pushAfterClose).toBe(false);
    expect(result.end.fds).toBe(result.base.fds);
    expect(result.end.threads).toBe(result.base.threads);
    // A leaked decoder (~26 kB) or buffer set (~50 kB) per cycle would be
    // megabytes here. Not under AddressSanitizer (native-test-asan), whose
    // quarantine keeps freed memory resident on purpose.
    if (process.env.CAMGW_TEST_PRELOAD_FIRST === undefined) expect(grewKb).toBeLessThan(2 * 1024);
  });

  it("reports a device that is not there as NativeDeviceError without leaking an fd", async () => {
    const { result } = await runOnBoard<{
      thrown: boolean;
      error: { name: string; context: { ioctl: string; errnoName: string } };
      fdsBefore: number;
      fdsAfter: number;
    }>(
      "audioOpenError",
      { kind: "capture", options: { device: "plughw:CARD=Device,DEV=3" } },
      { profile: "pi4" },
    );
    expect(result.thrown).toBe(true);
    expect(result.error.name).toBe("NativeDeviceError");
    expect(result.error.context).toMatchObject({ ioctl: "snd_pcm_open", errnoName: "ENOENT" });
    expect(result.fdsAfter).toBe(result.fdsBefore);
  });
});
