import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zeroCrossingsPerSecond } from "../../firmware-sim/src/audio-signal.js";
import { channel, parseWav } from "../../firmware-sim/src/wav.js";
import { AudioPlayback } from "./audio-playback.js";
import type { AudioPlaybackOptions, AudioPlaybackStats } from "./audio-types.js";
import { encodeToneOggOpus, loudRuns } from "./testing/audio-check.js";
import { runOnBoard } from "./testing/board.js";
import type { ResourceCount } from "./testing/scenarios.js";

const SPEAKER = "hw:CARD=Device,DEV=0";
// A generous playout target: a loaded test machine may pause the pushing JS
// thread for tens of ms, which must not turn into late packets here.
const PLAYOUT = { device: SPEAKER, jitterMs: 100 };
// After the last packet the buffer conceals this many frames (a late packet
// may still come) before it plays silence: the fade-out of a talk spurt.
const TAIL_CONCEALED = 5;

interface PlaybackRun {
  /** Packets in the input file. */
  packets: number;
  stats: AudioPlaybackStats;
  events: string[];
  refused: number[];
}

const dir = mkdtempSync(join(tmpdir(), "camgw-audio-playback-"));
const tone = join(dir, "tone440.opus");
beforeAll(() => {
  encodeToneOggOpus(tone, 440, 2);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Every packet played, or dropped and counted: a pusher the loaded machine
 * paused (ASAN run: 12 of 101) delivers a burst past the buffer's bound,
 * and the oldest go so latency stays bounded (jitter_buffer.h).
 */
function expectAllPlayedOrDropped(run: PlaybackRun): void {
  expect(run.stats.framesDecoded + run.stats.packetsDropped).toBe(run.packets);
}

/**
 * The tone lasted as long as it was sent (2 s) unless the device ran dry: a
 * loaded machine (ASAN, two cores) can starve the playback thread into an
 * underrun, reported as an "xrun" event, after which the recording's length
 * says nothing about the jitter buffer. Every other event fails the test.
 */
function expectToneLength(run: PlaybackRun, ms: number): void {
  expect(run.events.filter((e) => !e.startsWith("xrun:"))).toEqual([]);
  // Dropped packets (above) shorten it by their 20 ms each.
  const dropped = run.stats.packetsDropped * 20;
  if (run.stats.xruns === 0) expect(Math.abs(ms + dropped - 2000)).toBeLessThan(60);
}

/** The speaker's recording: the loud stretch, its length in ms, and its tone in Hz. */
function heard(file: string): { ms: number; hz: number; start: number } {
  const left = channel(parseWav(readFileSync(file)), 0);
  const runs = loudRuns(left, 2000, 4800);
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const [start, len] = runs[0] ?? [0, 0];
  // Away from the edges (the codec's fade-in and PLC's fade-out), the tone
  // of each 100 ms window; their median, so the few windows an underrun cut
  // do not move it.
  const perWindow: number[] = [];
  for (let at = start + 2400; at + 4800 <= start + len - 2400; at += 4800) {
    perWindow.push(zeroCrossingsPerSecond(left.subarray(at, at + 4800), 48000) / 2);
  }
  perWindow.sort((a, b) => a - b);
  const hz = perWindow[Math.floor(perWindow.length / 2)] ?? 0;
  return { ms: (len / 48000) * 1000, hz, start };
}

describe("AudioPlayback arguments", () => {
  it("throws TypeError for bad arguments before opening anything", () => {
    const bad: unknown[] = [
      undefined,
      { device: 1 },
      { device: SPEAKER, bufferMs: 5 },
      { device: SPEAKER, jitterMs: -1 },
      { device: SPEAKER, jitterMs: 100, maxJitterMs: 50 },
    ];
    for (const options of bad) {
      expect(() => AudioPlayback.open(options as AudioPlaybackOptions)).toThrow(TypeError);
    }
  });
});

describe("AudioPlayback on the virtual board", () => {
  it("plays Opus packets made by ffmpeg from a 440 Hz tone into the speaker, recognisably", async () => {
    const speaker = join(dir, "speaker.wav");
    const { result } = await runOnBoard<PlaybackRun>(
      "audioPlayback",
      // bad input on the way: not Opus (an empty packet, a TOC with a bad code 3 frame count)
      { options: PLAYOUT, input: tone, garbage: [[], [0xff, 0x00]] },
      { profile: "pi4", env: { CAMGW_SIM_SPEAKER_FILE: speaker } },
    );
    expect(result.refused).toEqual([-1, -1]);
    expect(result.stats).toMatchObject({
      packetsInvalid: 2,
      packetsLate: 0,
      framesFec: 0,
      framesConcealed: TAIL_CONCEALED,
    });
    expectAllPlayedOrDropped(result);
    const h = heard(speaker);
    expect(Math.abs(h.hz - 440)).toBeLessThan(2);
    expectToneLength(result, h.ms);
  });

  it("puts reordered packets back in order, and conceals lost ones with FEC or PLC", async () => {
    const speaker = join(dir, "lossy.wav");
    const { result } = await runOnBoard<PlaybackRun>(
      "audioPlayback",
      { options: PLAYOUT, input: tone, reorder: true, lose: [30, 31, 60] },
      { profile: "pi4", env: { CAMGW_SIM_SPEAKER_FILE: speaker } },
    );
    expect(result.stats.packetsLate).toBe(0);
    expect(result.stats.framesDecoded).toBe(result.packets - 3);
    // 31 and 60 are followed by packets already here (FEC, RFC 6716 section 2.1.7);
    // 30 is not (31 is lost too): Opus PLC.
    expect(result.stats.framesFec).toBe(2);
    expect(result.stats.framesConcealed).toBe(1 + TAIL_CONCEALED);
    const h = heard(speaker);
    expect(Math.abs(h.hz - 440)).toBeLessThan(2);
    expectToneLength(result, h.ms);
  });

  it("plays packets without timestamps one after the other", async () => {
    const speaker = join(dir, "plain.wav");
    const { result } = await runOnBoard<PlaybackRun>(
      "audioPlayback",
      { options: PLAYOUT, input: tone, timestamps: false },
      { profile: "pi5", env: { CAMGW_SIM_SPEAKER_FILE: speaker } },
    );
    expectAllPlayedOrDropped(result);
    expect(Math.abs(heard(speaker).hz - 440)).toBeLessThan(2);
  });

  it("reports an underrun as 'xrun', recovers it and plays on", async () => {
    const speaker = join(dir, "xrun.wav");
    const { result } = await runOnBoard<PlaybackRun>(
      "audioPlayback",
      { options: PLAYOUT, input: tone },
      {
        profile: "pi4",
        faults: "xrun:at=1500ms:dev=speaker",
        env: { CAMGW_SIM_SPEAKER_FILE: speaker },
      },
    );
    // The injected underrun comes first; a loaded machine may starve the
    // playback thread into more, each reported and recovered the same way.
    expect(result.events[0]).toBe("xrun:1");
    expect(result.stats.xruns).toBe(result.events.length);
    expect(Math.abs(heard(speaker).hz - 440)).toBeLessThan(2);
  });

  it("stops cleanly and emits 'unplugged' when the card is unplugged, and opens again after replug", async () => {
    const control = join(dir, "control");
    writeFileSync(control, "");
    const { result } = await runOnBoard<{
      events: string[];
      pushed: number;
      base: ResourceCount;
      afterUnplug: ResourceCount;
      reopened: boolean;
      lastError: string;
    }>(
      "audioUnplug",
      { kind: "playback", device: SPEAKER, control },
      { profile: "pi4", controlFile: control },
    );
    expect(result.events).toEqual(["unplugged", "closed"]);
    expect(result.pushed).toBeGreaterThan(0);
    expect(result.afterUnplug.fds).toBe(result.base.fds);
    expect(result.afterUnplug.threads).toBe(result.base.threads);
    expect(result.reopened, result.lastError).toBe(true);
  });
});
