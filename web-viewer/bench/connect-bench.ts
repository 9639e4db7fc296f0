/**
 * N browser connects to the real gateway on the virtual board, one after
 * another, each from a fresh page: prints time to first frame (offer
 * published -> first frame presented) and glass-to-glass latency (frame
 * stamp -> expected display time) as Chromium sees them, p50/p95. Then, in
 * the same run and against the same gateway, N WHEP connects from a player
 * page (web-viewer/test/whep/whep-page.ts): POST -> first frame presented.
 *
 *   node web-viewer/bench/bench.js [--n 20] [--frames 60] [--keep-warm] [-- extra camgw run flags]
 *
 * Same machine, same clock: the glass-to-glass figure is exact here (see
 * docs/viewer.md for the cross-machine caveat).
 */
import { parseArgs } from "node:util";
import {
  launchChromium,
  openViewer,
  tileStats,
  waitFor,
  waitPlaying,
} from "../test/harness/browser.js";
import { GatewayProcess } from "../test/harness/gateway-process.js";
import { startPlayerPage } from "../test/harness/player-page.js";
import { percentile } from "../src/latency-series.js";

const { values, positionals } = parseArgs({
  options: {
    n: { type: "string", default: "20" },
    frames: { type: "string", default: "60" },
    "keep-warm": { type: "boolean", default: false },
  },
  allowPositionals: true,
});
const runs = Number(values.n);
const framesPerRun = Number(values.frames);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--n must be a positive integer, got ${values.n}`);
if (!Number.isInteger(framesPerRun) || framesPerRun < 1)
  throw new Error(`--frames must be a positive integer, got ${values.frames}`);

function fmt(ms: number | null): string {
  return ms === null ? "n/a" : `${ms.toFixed(1)} ms`;
}

function line(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${label.padEnd(34)} p50 ${fmt(percentile(sorted, 50)).padStart(9)}  p95 ${fmt(percentile(sorted, 95)).padStart(9)}  (n=${samples.length})`;
}

const WHEP_TOKEN = "bench-whep-token";
const player = await startPlayerPage();
const gateway = await GatewayProcess.start({
  deviceId: "bench",
  args: [
    ...(values["keep-warm"] ? ["--keep-warm"] : []),
    "--whep-token",
    WHEP_TOKEN,
    "--whep-cors-origins",
    player.origin,
    ...positionals,
  ],
});
const browser = await launchChromium();
const chromiumVersion = browser.version();
const ttff: number[] = [];
const openToFrame: number[] = [];
const g2g: number[] = [];
const steps = {
  offerSinceLoad: [] as number[],
  answer: [] as number[],
  iceConnected: [] as number[],
  connected: [] as number[],
};
const perRunG2g: number[] = [];
const whepTtff: number[] = [];
try {
  // One warm-up connect (JIT, Chromium's codec init) that is not counted.
  for (let i = 0; i <= runs; i++) {
    const opened = Date.now();
    const page = await openViewer(browser, gateway.viewerUrl("?device=bench"));
    const playing = await waitPlaying(page, "bench", 30_000);
    const shown = Date.now() - opened;
    const done = await waitFor(
      `${framesPerRun} stamped frames`,
      async () => {
        const t = await tileStats(page, "bench");
        return t && t.latencySamples.length >= framesPerRun ? t : undefined;
      },
      30_000,
    );
    await page.context().close();
    const samples = done.latencySamples.slice(0, framesPerRun);
    const median = percentile(
      [...samples].sort((a, b) => a - b),
      50,
    );
    const label = i === 0 ? "warm-up" : `run ${String(i).padStart(2)}`;
    console.log(
      `${label}: answer ${fmt(playing.timeline.answer ?? null)}, ICE ${fmt(playing.timeline.iceConnected ?? null)}, DTLS ${fmt(playing.timeline.connected ?? null)}, first frame ${fmt(playing.ttffMs ?? null)}, page open -> playing ${shown} ms, glass-to-glass p50 ${fmt(median)}`,
    );
    if (i === 0) continue;
    if (playing.ttffMs !== undefined) ttff.push(playing.ttffMs);
    for (const key of ["offerSinceLoad", "answer", "iceConnected", "connected"] as const) {
      const at = playing.timeline[key];
      if (at !== undefined) steps[key].push(at);
    }
    openToFrame.push(shown);
    g2g.push(...samples);
    if (median !== null) perRunG2g.push(median);
  }
  // WHEP, same gateway, same browser: POST -> first frame presented.
  for (let i = 0; i <= runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(player.url);
    const id = await page.evaluate(({ u, t }) => window.whepTest.own(u, t), {
      u: `${gateway.httpUrl}whep/main`,
      t: WHEP_TOKEN,
    });
    const state = await waitFor(
      "a WHEP frame",
      async () => {
        const s = await page.evaluate((p) => window.whepTest.state(p), id);
        return s.timeToFirstFrameMs !== undefined ? s : undefined;
      },
      30_000,
    );
    await page.evaluate(({ p, t }) => window.whepTest.stop(p, t), { p: id, t: WHEP_TOKEN });
    await context.close();
    console.log(
      `${i === 0 ? "WHEP warm-up" : `WHEP run ${String(i).padStart(2)}`}: POST -> first frame ${fmt(state.timeToFirstFrameMs ?? null)}`,
    );
    if (i > 0 && state.timeToFirstFrameMs !== undefined) whepTtff.push(state.timeToFirstFrameMs);
    // As between MQTT connects: the camera stops with the last viewer, each connect starts it.
    await new Promise((r) => setTimeout(r, 300));
  }
} finally {
  await browser.close();
  await gateway.close();
  await player.close();
}
console.log("");
console.log(
  `camgw viewer bench: ${runs} connects, Chromium ${chromiumVersion}, 1280x720@30 virtual board${values["keep-warm"] ? " (keep-warm)" : ""}`,
);
console.log(line("time to first frame (MQTT)", ttff));
console.log(line("time to first frame (WHEP, POST->)", whepTtff));
console.log(line("  offer -> answer", steps.answer));
console.log(line("  offer -> ICE connected", steps.iceConnected));
console.log(line("  offer -> DTLS connected", steps.connected));
console.log(line("page navigation -> offer sent", steps.offerSinceLoad));
console.log(line("page open -> playing (incl. MQTT)", openToFrame));
console.log(line("glass-to-glass, all frames", g2g));
console.log(line("glass-to-glass, per-connect p50", perRunG2g));
