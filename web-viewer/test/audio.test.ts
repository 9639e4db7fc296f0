/**
 * Two-way audio end to end: Debian's Chromium watches `camgw run --source
 * sim --audio talk`, hears the virtual microphone's tone bursts through
 * WebAudio, and talks back with push-to-talk from a fake microphone (a WAV
 * file this test writes) into the virtual speaker's recording; and its
 * control DataChannel (libwebrtc's SCTP) is answered.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BURST_HZ, zeroCrossingsPerSecond } from "../../firmware-sim/src/audio-signal.js";
import { channel, encodeWav, parseWav } from "../../firmware-sim/src/wav.js";
import { avFigures, injectAvProbe, measureAv, recordPeerConnections } from "./harness/av-probe.js";
import { CHROMIUM, CHROMIUM_ARGS, openViewer, screenshot, waitPlaying } from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";

/** The fake microphone's tone: far from the camera's 1 kHz bursts, so the two cannot be confused. */
const TALK_HZ = 440;
const RATE = 48_000;

/** A loud pure tone, `seconds` long (Chromium loops the file). */
function toneWav(hz: number, seconds: number): Buffer {
  const samples = new Int16Array(RATE * seconds);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(12_000 * Math.sin((2 * Math.PI * hz * i) / RATE));
  }
  return encodeWav({ rate: RATE, channels: 1, samples });
}

/** The strongest frequency of the camera's sound as the page hears it, and its level. */
interface Heard {
  peakHz: number;
  loudWindows: number;
  quietWindows: number;
}

/**
 * Listens to the tile's stream for `ms` through an AnalyserNode: per
 * 2048-sample window, its peak amplitude; over the loud windows, the
 * frequency bin that is strongest most often.
 */
async function listen(page: Page, deviceId: string, ms: number): Promise<Heard> {
  return page.evaluate(
    async ({ deviceId, ms }) => {
      const video = document.querySelector<HTMLVideoElement>(
        `.tile[data-device="${deviceId}"] video`,
      );
      const stream = video?.srcObject;
      if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) {
        throw new Error("the tile's stream has no audio track");
      }
      const ctx = new AudioContext({ sampleRate: 48_000 });
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaStreamSource(stream).connect(analyser);
      const time = new Float32Array(analyser.fftSize);
      const freq = new Float32Array(analyser.frequencyBinCount);
      const peaks = new Map<number, number>();
      let loudWindows = 0;
      let quietWindows = 0;
      const end = performance.now() + ms;
      while (performance.now() < end) {
        await new Promise((r) => setTimeout(r, 15));
        analyser.getFloatTimeDomainData(time);
        let max = 0;
        for (const v of time) max = Math.max(max, Math.abs(v));
        if (max < 0.01) {
          quietWindows++;
          continue;
        }
        if (max < 0.1) continue;
        loudWindows++;
        analyser.getFloatFrequencyData(freq);
        let best = 0;
        for (let i = 1; i < freq.length; i++)
          if ((freq[i] ?? -Infinity) > (freq[best] ?? -Infinity)) best = i;
        peaks.set(best, (peaks.get(best) ?? 0) + 1);
      }
      await ctx.close();
      const [bin] = [...peaks.entries()].sort((a, b) => b[1] - a[1])[0] ?? [0];
      return { peakHz: (bin * 48_000) / 2048, loudWindows, quietWindows };
    },
    { deviceId, ms },
  );
}

describe("two-way audio in Chromium against the gateway on the virtual board", () => {
  let dir: string;
  let speakerFile: string;
  let gateway: GatewayProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-audio-"));
    speakerFile = join(dir, "speaker.wav");
    const micFile = join(dir, "talk.wav");
    await writeFile(micFile, toneWav(TALK_HZ, 2));
    gateway = await GatewayProcess.start({
      deviceId: "door",
      // maintain-resolution: the size test below starts from the configured
      // 1280x720, which a loaded machine's estimate would otherwise step down.
      args: [
        "--audio",
        "talk",
        "--control-sizes",
        "640x480",
        "--degradation",
        "maintain-resolution",
      ],
      sim: { speakerFile },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        // Chromium's own fake capture device, fed from our WAV; no permission prompt.
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        `--use-file-for-fake-audio-capture=${micFile}`,
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser.close();
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("offers Sound and Hold to talk, and the viewer hears the microphone's 1 kHz bursts", async () => {
    // bypassCsp: the A/V test below injects its timing probe.
    page = await openViewer(browser, gateway.viewerUrl("?device=door"), undefined, {
      bypassCsp: true,
      beforeLoad: recordPeerConnections,
    });
    await waitPlaying(page, "door");
    const sound = page.locator('.tile[data-device="door"] [data-action="sound"]');
    const talk = page.locator('.tile[data-device="door"] [data-action="talk"]');
    await sound.waitFor({ state: "visible", timeout: 10_000 });
    await talk.waitFor({ state: "visible", timeout: 10_000 });
    expect(
      await page
        .locator('.tile[data-device="door"] video')
        .evaluate((v: HTMLVideoElement) => v.muted),
    ).toBe(true);
    await sound.click();
    expect(await sound.getAttribute("aria-pressed")).toBe("true");
    expect(
      await page
        .locator('.tile[data-device="door"] video')
        .evaluate((v: HTMLVideoElement) => v.muted),
    ).toBe(false);

    // A 20 ms burst at each whole second (docs/firmware-sim.md), silence between.
    const heard = await listen(page, "door", 4_000);
    expect(heard.loudWindows).toBeGreaterThanOrEqual(2);
    expect(heard.quietWindows).toBeGreaterThan(heard.loudWindows);
    expect(Math.abs(heard.peakHz - BURST_HZ)).toBeLessThan(50);
    await screenshot(page, "audio-buttons");
  });

  it("plays sound and picture in step: the bursts' and the frame stamps' glass-to-glass differ by a fraction of the playout window", async () => {
    await injectAvProbe(page);
    // Chromium lip-syncs by moving the later stream's delay at most 80 ms per
    // second once two sender reports of each have come (libwebrtc
    // stream_synchronization.cc): the first seconds of a call may be off.
    await page.waitForTimeout(12_000);
    // Five bursts (one a second) and the ~150 stamped frames shown meanwhile.
    const sample = await measureAv(page, "door", 5_500);
    const figures = avFigures(sample);
    const detail = JSON.stringify({
      figures,
      bursts: sample.bursts.map((b) => Math.round(b.latencyMs * 10) / 10),
      baseLatencyMs: sample.baseLatencyMs,
      outputLatencyMs: sample.outputLatencyMs,
    });
    console.log(`A/V: ${detail}`);
    expect(figures, detail).not.toBeNull();
    if (!figures) return;
    expect(figures.bursts, detail).toBeGreaterThanOrEqual(4);
    expect(figures.frames, detail).toBeGreaterThanOrEqual(10);
    // Positive: the sound comes late; burst by burst, paired with the frames
    // around it. Issue 12 aims at 40 ms, which `make bench` (audio) reports
    // round by round, with libwebrtc's own estimate (docs/viewer.md, "Sound");
    // lip sync itself leaves under 30 ms alone. Here the machine is loaded and
    // Chromium's audio jitter buffer swings by 100-200 ms within seconds, so
    // this holds what synchronisation guarantees at any load: both streams
    // inside the video's 500 ms playout window (without lip sync the sound
    // ran 250-430 ms late).
    expect(Math.abs(figures.offsetMs), detail).toBeLessThan(250);
  });

  it("answers the viewer's control channel: ping, key frame, stats, and errors for what config forbids", async () => {
    const ask = (request: Record<string, unknown>): Promise<Record<string, unknown>> =>
      page.evaluate(
        (r) => window.camgwDebug?.control("door", r as never) as Promise<Record<string, unknown>>,
        request,
      );
    expect(await ask({ type: "ping" })).toMatchObject({ type: "pong" });
    expect(await ask({ type: "keyframe" })).toMatchObject({ type: "ok", request: "keyframe" });
    const stats = await ask({ type: "stats" });
    expect(stats).toMatchObject({
      type: "stats",
      stats: { state: "connected", audio: { direction: "sendrecv" }, talkFloor: "free" },
    });
    // No control-bitrate in config: viewers may not change the stream.
    expect(await ask({ type: "bitrate", kbps: 500 })).toMatchObject({
      type: "error",
      code: "forbidden",
    });
    expect(await ask({ type: "open-the-door" })).toMatchObject({
      type: "error",
      code: "unknown-command",
    });
  });

  it("restarts the camera at a size control-sizes allows, and the viewer's video follows", async () => {
    const ask = (request: Record<string, unknown>): Promise<Record<string, unknown>> =>
      page.evaluate(
        (r) => window.camgwDebug?.control("door", r as never) as Promise<Record<string, unknown>>,
        request,
      );
    const video = page.locator('.tile[data-device="door"] video');
    expect(await video.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBe(1280);
    expect(await ask({ type: "resolution", width: 320, height: 180 })).toMatchObject({
      type: "error",
      code: "out-of-range",
    });
    // Through the supervised source (media/supervised-source.ts) to the camera on the virtual board.
    expect(await ask({ type: "resolution", width: 640, height: 480 })).toMatchObject({
      type: "ok",
      request: "resolution",
      width: 640,
      height: 480,
    });
    await page.waitForFunction(
      () => {
        const v = document.querySelector<HTMLVideoElement>('.tile[data-device="door"] video');
        return v?.videoWidth === 640 && v.videoHeight === 480;
      },
      undefined,
      { timeout: 20_000 },
    );
    expect(await ask({ type: "stats" })).toMatchObject({
      stats: { state: "connected", stream: { width: 640, height: 480 } },
    });
  });

  it("plays push-to-talk from the browser's microphone on the camera's speaker", async () => {
    const talk = page.locator('.tile[data-device="door"] [data-action="talk"]');
    const box = await talk.boundingBox();
    if (!box) throw new Error("no talk button");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.waitForFunction(
      () => document.querySelector('[data-action="talk"]')?.getAttribute("aria-pressed") === "true",
    );
    await page.waitForTimeout(3_000);
    await page.mouse.up();
    expect(await talk.getAttribute("aria-pressed")).toBe("false");
    expect(await talk.getAttribute("title")).not.toMatch(/Cannot talk/);

    // The recording is complete once the gateway has closed the speaker.
    await gateway.stop();
    const wav = parseWav(await readFile(speakerFile));
    const left = channel(wav, 0);
    // Per 20 ms window of the recording: loud ones carry the talk-back; their
    // median zero-crossing rate gives its pitch (Opus keeps it).
    const win = wav.rate / 50;
    const pitches: number[] = [];
    for (let at = 0; at + win <= left.length; at += win) {
      const part = left.subarray(at, at + win);
      let sum = 0;
      for (const v of part) sum += v * v;
      if (Math.sqrt(sum / win) > 2_000) pitches.push(zeroCrossingsPerSecond(part, wav.rate) / 2);
    }
    // Well over a second of loud windows: the talk went through.
    expect(pitches.length).toBeGreaterThan(50);
    pitches.sort((x, y) => x - y);
    const median = pitches[Math.floor(pitches.length / 2)] ?? 0;
    expect(Math.abs(median - TALK_HZ), `pitches ${pitches.join(" ")}`).toBeLessThan(TALK_HZ * 0.1);
  });
});
