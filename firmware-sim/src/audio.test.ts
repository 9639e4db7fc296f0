import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BURST_AMPLITUDE,
  findBursts,
  offsetFromSecondUs,
  zeroCrossingsPerSecond,
} from "./audio-signal.js";
import { execOnBoard, parseExecArgs } from "./cli.js";
import { ensureBuilt, runOnBoard, runProgram } from "./test-support.js";
import { channel, encodeWav, frameCount, parseWav } from "./wav.js";

const HW = "hw:CARD=Device,DEV=0";
const PLUGHW = "plughw:CARD=Device,DEV=0";

interface Capture {
  channels: number;
  period: number;
  buffer: number;
  frames: number;
  bursts: { us: number; offset_us: number }[];
  gaps_ms: number[];
  xruns: number;
  enodev: number;
  eio: number;
  reopened: number;
  unplug_ms: number;
  replug_ms: number;
}

interface Playback {
  frames: number;
  xruns: number;
  enodev: number;
  eio: number;
  reopened: number;
}

const dir = mkdtempSync(join(tmpdir(), "camgw-sim-audio-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sine(seconds: number, hz: number, channels: number, rate = 48000): Buffer {
  const n = Math.round(rate * seconds);
  const samples = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) {
    const v = Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / rate));
    for (let c = 0; c < channels; c++) samples[i * channels + c] = v;
  }
  return encodeWav({ rate, channels, samples });
}

/** Silent stretches longer than `minMs` in a recording: [start ms, length ms]. */
function silences(x: Int16Array, minMs: number): [number, number][] {
  const out: [number, number][] = [];
  let run = 0;
  for (let i = 0; i <= x.length; i++) {
    if (i < x.length && x[i] === 0) {
      run++;
      continue;
    }
    if (run >= (minMs * 48000) / 1000) out.push([((i - run) / 48) | 0, (run / 48) | 0]);
    run = 0;
  }
  return out;
}

describe("the virtual USB sound card", () => {
  it("is listed by arecord -l, aplay -l and /proc/asound/cards as snd-usb-audio lists one", async () => {
    const rec = await runOnBoard("arecord", ["-l"]);
    expect(rec.stdout).toContain(
      "card 0: Device [USB Audio Device], device 0: USB Audio [USB Audio]\n  Subdevices: 1/1",
    );
    const play = await runOnBoard("aplay", ["-l"]);
    expect(play.stdout).toContain("**** List of PLAYBACK Hardware Devices ****\ncard 0: Device");
    const names = await runOnBoard("arecord", ["-L"]);
    expect(names.stdout).toContain(`${HW}\n    USB Audio Device, USB Audio`);
    expect(names.stdout).toContain(PLUGHW);
    const cards = await runOnBoard("cat", ["/proc/asound/cards"]);
    expect(cards.stdout).toMatch(/^ 0 \[Device {9}\]: USB-Audio - USB Audio Device\n {22}\S/);
    const nodes = await runOnBoard("ls", ["/dev/snd"]);
    expect(nodes.stdout.split("\n").filter(Boolean)).toEqual(["controlC0", "pcmC0D0c", "pcmC0D0p"]);
  });

  it("is absent with --audio none", async () => {
    const rec = await runOnBoard("arecord", ["-l"], { audio: "none" });
    expect(rec.stdout + rec.stderr).toContain("no soundcards found");
  });

  it("records a 1 kHz burst at every whole second through arecord -D hw:CARD=Device", async () => {
    const out = join(dir, "mic.wav");
    const r = await runOnBoard("arecord", [
      "-D",
      HW,
      "-f",
      "S16_LE",
      "-r",
      "48000",
      "-c",
      "1",
      "-d",
      "3",
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const wav = parseWav(readFileSync(out));
    expect([wav.rate, wav.channels, frameCount(wav)]).toEqual([48000, 1, 144000]);
    const onsets = findBursts(wav.samples, 48000);
    expect(onsets.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < onsets.length; i++) {
      // one burst per second of the sample clock, to the sample
      expect(Math.abs((onsets[i] ?? 0) - (onsets[i - 1] ?? 0) - 48000)).toBeLessThan(1.5);
    }
    const start = Math.ceil(onsets[0] ?? 0);
    const burst = wav.samples.subarray(start, start + 960);
    // the sample nearest a peak is at most half a sample (3.75°) from it
    expect(Math.max(...burst)).toBeGreaterThanOrEqual(
      Math.floor(BURST_AMPLITUDE * Math.cos(Math.PI / 48)),
    );
    // 20 cycles of 1 kHz: 39 sign changes inside the 20 ms
    expect(zeroCrossingsPerSecond(burst, 48000) * 0.02).toBeCloseTo(39, 0);
    expect(wav.samples.subarray(start + 962, start + 48000 - 2).every((v) => v === 0)).toBe(true);
  });

  it("converts through plughw to what the application asks (16 kHz stereo)", async () => {
    const out = join(dir, "plug.wav");
    const r = await runOnBoard("arecord", [
      "-D",
      PLUGHW,
      "-f",
      "S16_LE",
      "-r",
      "16000",
      "-c",
      "2",
      "-d",
      "3",
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const wav = parseWav(readFileSync(out));
    expect([wav.rate, wav.channels]).toEqual([16000, 2]);
    const left = channel(wav, 0);
    expect(channel(wav, 1)).toEqual(left);
    const onsets = findBursts(left, 16000, { threshold: BURST_AMPLITUDE / 2 });
    expect(onsets.length).toBeGreaterThanOrEqual(2);
    expect(Math.abs((onsets[1] ?? 0) - (onsets[0] ?? 0) - 16000)).toBeLessThan(2);
  });

  it("refuses 44.1 kHz on hw: like a 48 kHz-only USB device (arecord warns and takes 48 kHz)", async () => {
    const r = await runOnBoard("arecord", [
      "-D",
      HW,
      "-f",
      "S16_LE",
      "-r",
      "44100",
      "-c",
      "1",
      "-d",
      "1",
      join(dir, "r.wav"),
    ]);
    expect(r.stderr).toContain(
      "Warning: rate is not accurate (requested = 44100Hz, got = 48000Hz)",
    );
  });

  it("timestamps capture so that the bursts fall on whole seconds of CLOCK_REALTIME", async () => {
    const c = await runProgram<Capture>("snd_capture", [HW, "3.5"]);
    expect(c.bursts.length).toBeGreaterThanOrEqual(3);
    for (const b of c.bursts) {
      // the first non-zero sample follows the second by less than a sample (20.8 µs)
      expect(b.offset_us).toBeGreaterThanOrEqual(0);
      expect(b.offset_us).toBeLessThan(50);
      expect(offsetFromSecondUs(b.us)).toBe(b.offset_us);
    }
    expect(c.gaps_ms).toEqual([]);
    expect([c.xruns, c.enodev, c.eio]).toEqual([0, 0, 0]);
  });

  it("records what aplay plays into the speaker's WAV file, with its start time", async () => {
    const input = join(dir, "tone.wav");
    const speaker = join(dir, "speaker.wav");
    writeFileSync(input, sine(1.5, 440, 2));
    const before = Date.now() * 1000;
    const r = await runOnBoard("aplay", ["-D", HW, input], { speakerFile: speaker });
    expect(r.code, r.stderr).toBe(0);
    const wav = parseWav(readFileSync(speaker));
    expect([wav.rate, wav.channels]).toEqual([48000, 2]);
    expect(frameCount(wav)).toBeGreaterThanOrEqual(72000);
    expect(frameCount(wav)).toBeLessThan(72000 + 4800);
    expect(wav.startRealtimeUs).toBeGreaterThan(before);
    expect(wav.startRealtimeUs).toBeLessThan(Date.now() * 1000);
    const left = channel(wav, 0).subarray(0, 72000);
    expect(zeroCrossingsPerSecond(left, 48000)).toBeCloseTo(880, -1);
    expect(Math.max(...left)).toBe(12000);
  });

  it("records a 24 kHz mono file played through plughw under `firmware-sim exec --speaker`", async () => {
    ensureBuilt();
    const input = join(dir, "mono24k.wav");
    const speaker = join(dir, "exec-speaker.wav");
    writeFileSync(input, sine(1, 1000, 1, 24000));
    const args = parseExecArgs(["--speaker", speaker, "--", "aplay", "-q", "-D", PLUGHW, input]);
    await expect(execOnBoard(args)).resolves.toBe(0);
    const wav = parseWav(readFileSync(speaker));
    expect([wav.rate, wav.channels]).toEqual([48000, 2]);
    expect(frameCount(wav)).toBeGreaterThanOrEqual(48000);
    for (const c of [0, 1]) {
      const x = channel(wav, c).subarray(2400, 45600);
      expect(zeroCrossingsPerSecond(x, 48000)).toBeCloseTo(2000, -1);
    }
  });

  it("answers like the kernel's PCM core where ALSA defines the answer", async () => {
    const r = await runProgram<Record<string, unknown>>("snd_api", [HW]);
    expect(r).toMatchObject({
      second_open: "EBUSY",
      capture_channels: [1, 1],
      capture_rates: [48000, 48000],
      playback_channels: [2, 2],
      s24: "EINVAL",
      rate_44100: "EINVAL",
      mmap_access: "OK",
      near: { rate: 48000, period: 1000, buffer: 3333 },
      nonblock_read: "EAGAIN",
      poll: 1,
      poll_in: 1,
      status_state: "RUNNING",
      status_tstamp: 1,
      mmap_status: "ENXIO",
      unknown_ioctl: "ENOTTY",
      raw_drop: "OK",
      readi_in_setup: "EBADFD",
      start_in_setup: "EBADFD",
      resume: "ENOSYS",
      overrun: "EPIPE",
      overrun_state: "XRUN",
      overrun_recover: "OK",
      read_after_recover: 480,
      paused_state: "PAUSED",
      read_after_pause: 480,
      start_empty: "EPIPE",
      underrun: "EPIPE",
      underrun_recover: "OK",
      drain: "OK",
      after_drain: "SETUP",
      delay_after_960: 960,
    });
    // The read loop stops at 1.1 s of frames, in reads of 960; a read after
    // an overrun's recovery on a loaded machine may be shorter.
    expect(r.mmap_frames).toBeGreaterThanOrEqual(52800);
    expect(r.mmap_frames).toBeLessThan(52800 + 960);
    // 1.1 s of a 20 ms burst (960 samples) at every whole second holds one
    // whole burst, and part or all of another when the read starts inside a
    // burst or in the 100 ms before a second (one clean run read 1920).
    expect(r.mmap_burst_samples).toBeGreaterThanOrEqual(960);
    expect(r.mmap_burst_samples).toBeLessThanOrEqual(1920);
  });
});

describe("faults on the virtual sound card", () => {
  it("overruns the microphone on xrun (EPIPE), which snd_pcm_recover recovers", async () => {
    const c = await runProgram<Capture>("snd_capture", [HW, "2"], { faults: "xrun:at=1s:dev=mic" });
    expect(c.xruns).toBe(1);
    expect(c.bursts.length).toBeGreaterThanOrEqual(1);
    expect(c.frames).toBeGreaterThan(48000);
  });

  it("underruns the speaker on xrun (EPIPE), and it plays on after snd_pcm_recover", async () => {
    const speaker = join(dir, "xrun.wav");
    const p = await runProgram<Playback>("snd_play", [HW, "2", "1000"], {
      faults: "xrun:at=1s:dev=speaker",
      speakerFile: speaker,
    });
    expect(p.xruns).toBe(1);
    const left = channel(parseWav(readFileSync(speaker)), 0);
    expect(left.length).toBeGreaterThan(48000 * 1.5);
    expect(zeroCrossingsPerSecond(left.subarray(-24000), 48000)).toBeCloseTo(2000, -2);
  });

  it("stalls the sample clock: a capture timestamp gap and speaker silence of the stall's length", async () => {
    const c = await runProgram<Capture>("snd_capture", [HW, "2"], {
      faults: "stall:ms=300:at=1s:dev=mic",
    });
    expect(c.gaps_ms).toEqual([300]);
    expect(c.xruns).toBe(0);
    const speaker = join(dir, "stall.wav");
    const p = await runProgram<Playback>("snd_play", [HW, "2", "1000"], {
      faults: "stall:ms=300:at=1s:dev=speaker",
      speakerFile: speaker,
    });
    expect(p.xruns).toBe(0);
    const gaps = silences(channel(parseWav(readFileSync(speaker)), 0), 2);
    expect(gaps.length).toBe(1);
    expect(gaps[0]?.[1]).toBeGreaterThanOrEqual(295);
    expect(gaps[0]?.[1]).toBeLessThanOrEqual(310);
  });

  it("unplugs the card (ENODEV, the nodes go) and replugs it so that a new open streams", async () => {
    const faults = "unplug:at=800ms:for=700ms:dev=audio";
    const c = await runProgram<Capture>("snd_capture", [HW, "2.5"], { faults });
    expect([c.enodev, c.reopened]).toEqual([1, 1]);
    expect(c.unplug_ms).toBeGreaterThanOrEqual(700);
    expect(c.replug_ms).toBeGreaterThanOrEqual(1400);
    const p = await runProgram<Playback>("snd_play", [HW, "2.5", "440"], { faults });
    expect([p.enodev, p.reopened]).toEqual([1, 1]);
    const gone = await runOnBoard("sh", ["-c", "arecord -l; ls /dev/snd"], {
      faults: "unplug:dev=audio",
    });
    expect(gone.stdout + gone.stderr).toContain("no soundcards found");
  });

  it("makes arecord fail as on a real unplug", async () => {
    const r = await runOnBoard(
      "arecord",
      ["-D", HW, "-f", "S16_LE", "-r", "48000", "-d", "3", join(dir, "u.wav")],
      {
        faults: "unplug:at=500ms:dev=audio",
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/read error: No such device/);
  });
});
