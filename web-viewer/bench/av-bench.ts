/**
 * Two-way audio timing in Chromium against `camgw run --source sim --audio
 * talk` on loopback (docs/viewer.md, "Sound"): one run, p50/p95 and the
 * sample count of
 *
 * - audio glass-to-glass: the virtual microphone's burst at each whole
 *   second of CLOCK_REALTIME -> the viewer's audio output plays its onset
 *   (the track's delivery time plus the renderer's output delay,
 *   av-probe-page.ts; also printed: the same through a WebAudio graph, the
 *   probe's earlier measure, which adds buffers the viewer does not hear);
 * - video glass-to-glass in the same seconds: frame stamp -> expected display;
 * - A/V offset: per burst, its latency minus the median latency of the frames
 *   shown within 500 ms of it (positive: the sound comes after the picture);
 *   and libwebrtc's own estimate from the receivers' estimatedPlayoutTimestamp;
 * - talk-back: Chromium's fake microphone plays a WAV of the same bursts
 *   (once a second, on its own clock); the page hears each onset on the
 *   microphone track it sends, as its output device would play it; the
 *   virtual speaker's recording (its start_realtime_us, docs/firmware-sim.md
 *   "Speaker recording") says when the speaker played it;
 * - control DataChannel ping -> pong round trip from the page (docs/control.md).
 *
 *   node web-viewer/bench/bench.js av-bench [--rounds 4] [--talk-seconds 8] [--pings 50]
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { BURST_AMPLITUDE, findBursts, micSample } from "../../firmware-sim/src/audio-signal.js";
import { channel, encodeWav, parseWav } from "../../firmware-sim/src/wav.js";
import { percentile } from "../src/latency-series.js";
import {
  burstOffsets,
  injectAvProbe,
  measureAv,
  median,
  recordPeerConnections,
} from "../test/harness/av-probe.js";
import { CHROMIUM, CHROMIUM_ARGS, openViewer, waitPlaying } from "../test/harness/browser.js";
import { GatewayProcess } from "../test/harness/gateway-process.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "4" },
    "talk-seconds": { type: "string", default: "8" },
    pings: { type: "string", default: "50" },
  },
});
const rounds = Number(values.rounds);
const talkSeconds = Number(values["talk-seconds"]);
const pings = Number(values.pings);
for (const [name, v] of [
  ["--rounds", rounds],
  ["--talk-seconds", talkSeconds],
  ["--pings", pings],
] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
}

const RATE = 48_000;

/** One second of the virtual microphone's own signal: a 1 kHz 20 ms burst, then silence. */
function burstWav(): Buffer {
  const samples = new Int16Array(RATE);
  for (let i = 0; i < samples.length; i++) samples[i] = micSample(BigInt(i) * 20_833n);
  return encodeWav({ rate: RATE, channels: 1, samples });
}

/** The machine's load, printed with the figures (a shared machine). */
function loadNote(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")} on ${availableParallelism()} cores`;
}

function fmt(ms: number | null): string {
  return ms === null ? "n/a" : `${ms.toFixed(1)} ms`;
}

function line(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${label.padEnd(40)} p50 ${fmt(percentile(sorted, 50)).padStart(9)}  p95 ${fmt(percentile(sorted, 95)).padStart(9)}  (n=${samples.length})`;
}

const dir = await mkdtemp(join(tmpdir(), "camgw-av-bench-"));
const speakerFile = join(dir, "speaker.wav");
const micFile = join(dir, "bursts.wav");
await writeFile(micFile, burstWav());
const gateway = await GatewayProcess.start({
  deviceId: "bench",
  args: ["--audio", "talk"],
  sim: { speakerFile },
});
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    ...CHROMIUM_ARGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    `--use-file-for-fake-audio-capture=${micFile}`,
  ],
});
const audio: number[] = [];
const video: number[] = [];
const offsets: number[] = [];
const roundOffsets: string[] = [];
const webAudioOffsets: number[] = [];
const webAudioRounds: string[] = [];
const libwebrtcOffsets: number[] = [];
const rtts: number[] = [];
const talk: number[] = [];
let talkNote = "";
try {
  const page = await openViewer(browser, gateway.viewerUrl("?device=bench"), undefined, {
    bypassCsp: true,
    beforeLoad: recordPeerConnections,
  });
  await waitPlaying(page, "bench");
  await page.locator('.tile[data-device="bench"] [data-action="sound"]').click();
  await injectAvProbe(page);
  // One round not counted: NetEq and lip sync settle in the first seconds.
  for (let round = 0; round <= rounds; round++) {
    const sample = await measureAv(page, "bench", 5_500);
    const videoMedian = median(sample.videoLatencyMs);
    const label = round === 0 ? "warm-up" : `round ${round}`;
    const webAudioMedian = median(sample.webAudioBursts.map((b) => b.latencyMs));
    console.log(
      `${label}: bursts ${sample.bursts.map((b) => b.latencyMs.toFixed(1)).join(" ")} ms (output delay ${sample.playoutDelayMs.toFixed(1)} ms); video p50 ${fmt(videoMedian)} (${sample.videoLatencyMs.length} frames); through WebAudio p50 ${fmt(webAudioMedian)} (context base+output latency ${(sample.baseLatencyMs + sample.outputLatencyMs).toFixed(1)} ms); libwebrtc's offset p50 ${fmt(median(sample.libwebrtcOffsetsMs))}`,
    );
    if (round === 0 || videoMedian === null) continue;
    video.push(...sample.videoLatencyMs);
    audio.push(...sample.bursts.map((b) => b.latencyMs));
    offsets.push(...burstOffsets(sample));
    webAudioOffsets.push(...burstOffsets({ ...sample, bursts: sample.webAudioBursts }));
    libwebrtcOffsets.push(...sample.libwebrtcOffsetsMs);
    const audioMedian = median(sample.bursts.map((b) => b.latencyMs));
    if (audioMedian !== null) roundOffsets.push((audioMedian - videoMedian).toFixed(1));
    if (webAudioMedian !== null) webAudioRounds.push((webAudioMedian - videoMedian).toFixed(1));
  }

  // Control channel round trips, paced under its rate limit (docs/control.md).
  for (let i = 0; i < pings; i++) {
    const ms = await page.evaluate(async () => {
      const sent = performance.now();
      await window.camgwDebug?.control("bench", { type: "ping" });
      return performance.now() - sent;
    });
    rtts.push(ms);
    await new Promise((r) => setTimeout(r, 110));
  }

  // Talk-back: hold the button while the fake microphone plays its bursts.
  await page.evaluate(() => window.camgwAvProbe?.tapMicrophone());
  const button = page.locator('.tile[data-device="bench"] [data-action="talk"]');
  const box = await button.boundingBox();
  if (!box) throw new Error("no talk button");
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.waitForTimeout(talkSeconds * 1000);
  const sent = await page.evaluate(() => window.camgwAvProbe?.microphoneOnsets() ?? []);
  await page.mouse.up();
  await gateway.stop();
  const wav = parseWav(await readFile(speakerFile));
  if (wav.startRealtimeUs === undefined) {
    talkNote = "the speaker's recording has no start time";
  } else {
    const start = wav.startRealtimeUs / 1000;
    // Chromium's audio processing (AGC, noise suppression) changes the level: a lower threshold.
    const played = findBursts(channel(wav, 0), wav.rate, { threshold: BURST_AMPLITUDE / 8 }).map(
      (onset) => start + (onset / wav.rate) * 1000,
    );
    // Each burst the page sent, to the first the speaker played after it (bursts are 1 s apart).
    for (const at of sent) {
      const heard = played.find((p) => p > at && p - at < 1000);
      if (heard !== undefined) talk.push(heard - at);
    }
    talkNote = `${sent.length} bursts sent, ${played.length} played`;
  }
} finally {
  await browser.close();
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
}
console.log("");
console.log(
  `camgw audio bench: Chromium ${browser.version()}, --audio talk, virtual board, loopback, ${rounds} rounds of 5.5 s`,
);
console.log(line("audio glass-to-glass (burst -> played)", audio));
console.log(line("video glass-to-glass (same seconds)", video));
console.log(line("A/V offset (per burst; + = audio late)", offsets));
console.log(`  per round (median audio - median video): ${roundOffsets.join(", ")} ms`);
console.log(line("  through a WebAudio graph instead", webAudioOffsets));
console.log(`  per round: ${webAudioRounds.join(", ")} ms (its FIFO and own output: not heard)`);
console.log(line("  libwebrtc's own (estimatedPlayoutTimestamp)", libwebrtcOffsets));
console.log(`  ${loadNote()}`);
console.log(line("talk-back (page plays -> speaker plays)", talk));
console.log(`  ${talkNote}`);
console.log(line("control ping RTT (Chromium)", rtts));
