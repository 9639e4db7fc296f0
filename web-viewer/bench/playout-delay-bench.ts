/**
 * Glass-to-glass in Chromium with and without the playout-delay RTP header
 * extension (min 0, max 100 ms) that camgw sends: a plain page
 * (plain-player.ts: no jitterBufferTarget, as any third-party player)
 * against the real gateway on the virtual board, on loopback, in the same
 * run, turns alternating. Frame stamp -> expected display time, ms.
 *
 *   node web-viewer/bench/bench.js playout-delay-bench [--rounds 4] [--frames 150]
 */
import { build } from "esbuild";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { launchChromium, waitFor } from "../test/harness/browser.js";
import { GatewayProcess } from "../test/harness/gateway-process.js";
import { percentile } from "../src/latency-series.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "4" },
    frames: { type: "string", default: "150" },
  },
});
const rounds = Number(values.rounds);
const frames = Number(values.frames);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer`);
if (!Number.isInteger(frames) || frames < 1) throw new Error(`--frames must be a positive integer`);
/** Frames left out at the start of each call (first key frame, jitter buffer settling). */
const WARM_UP_FRAMES = 30;

// bench.js bundles this file to build/web-viewer-bench/; the player sits beside its source.
const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "..", "..", "web-viewer", "bench", "plain-player.ts");
const player = await build({
  entryPoints: [source],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  write: false,
  logLevel: "warning",
});
const script = player.outputFiles[0]?.text ?? "";

const PAGE =
  '<!doctype html><meta charset="utf-8"><body><script type="module" src="/player.js"></script></body>';
// The page is served from loopback too: Chromium's local network access
// checks would keep a page from elsewhere off the gateway's loopback broker.
const server = createServer((req, res) => {
  const js = req.url === "/player.js";
  res.writeHead(200, { "content-type": js ? "text/javascript" : "text/html" });
  res.end(js ? script : PAGE);
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const ORIGIN = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const gateway = await GatewayProcess.start({ deviceId: "bench" });
const browser = await launchChromium();
const chromiumVersion = browser.version();
const samples = { on: [] as number[], off: [] as number[] };
const jitter = { on: [] as number[], off: [] as number[] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const mode of ["on", "off"] as const) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const query = new URLSearchParams({
        broker: gateway.wsUrl,
        device: "bench",
        playoutDelay: mode,
      });
      await page.goto(`${ORIGIN}/?${query.toString()}`);
      const got = await waitFor(
        `${frames} stamped frames (playout-delay ${mode})`,
        async () => {
          const s = await page.evaluate(() => ({
            samples: window.benchSamples,
            error: window.benchError,
          }));
          if (s.error) throw new Error(s.error);
          return s.samples.length >= WARM_UP_FRAMES + frames ? s.samples : undefined;
        },
        60_000,
      );
      const stats = await page.evaluate(async () => {
        const pc = window.benchPc;
        let out = { delay: 0, count: 0 };
        if (!pc) return out;
        (await pc.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === "inbound-rtp" && s.kind === "video") {
            out = { delay: Number(s.jitterBufferDelay), count: Number(s.jitterBufferEmittedCount) };
          }
        });
        return out;
      });
      await context.close();
      const kept = got.slice(WARM_UP_FRAMES, WARM_UP_FRAMES + frames);
      samples[mode].push(...kept);
      if (stats.count > 0) jitter[mode].push((stats.delay / stats.count) * 1000);
      const sorted = [...kept].sort((a, b) => a - b);
      console.log(
        `round ${round + 1} playout-delay ${mode.padEnd(3)}: glass-to-glass p50 ${percentile(sorted, 50)?.toFixed(1)} ms, p95 ${percentile(sorted, 95)?.toFixed(1)} ms`,
      );
    }
  }
} finally {
  await browser.close();
  await gateway.close();
  server.close();
}

const fmt = (v: number | null): string => (v === null ? "n/a" : `${v.toFixed(1)} ms`);
const summary = (label: string, values: number[], jb: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const meanJb = jb.length ? jb.reduce((a, b) => a + b, 0) / jb.length : null;
  return `${label.padEnd(26)} p50 ${fmt(percentile(sorted, 50)).padStart(9)}  p95 ${fmt(percentile(sorted, 95)).padStart(9)}  jitter buffer ${fmt(meanJb)}  (n=${values.length})`;
};
console.log("");
console.log(
  `camgw playout-delay bench: plain page (no jitterBufferTarget), Chromium ${chromiumVersion}, 1280x720@30 virtual board, loopback`,
);
console.log(summary("playout-delay 0..100 ms", samples.on, jitter.on));
console.log(summary("no playout-delay", samples.off, jitter.off));
const on = percentile(
  [...samples.on].sort((a, b) => a - b),
  50,
);
const off = percentile(
  [...samples.off].sort((a, b) => a - b),
  50,
);
if (on !== null && off !== null) console.log(`gain at p50: ${(off - on).toFixed(1)} ms`);
