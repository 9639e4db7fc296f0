/**
 * `make bench`, congestion lab with Chromium as the viewer (root only):
 * issue 16's step-down (4 Mbit/s -> 800 kbit/s for 30 s -> 4 Mbit/s) in the
 * network lab, camgw on the virtual board behind its NAT as in the other
 * congestion-lab runs (gateway/src/congestion-lab), watched by Debian's
 * Chromium in the viewer's namespace through a plain page (plain-player.ts:
 * no jitterBufferTarget, as any third-party player). Freezes are Chromium's
 * own (inbound-rtp `freezeCount`, `totalFreezesDuration`), frames its
 * `framesDecoded`, glass-to-glass from the frame stamp at each frame's
 * expected display time; read once a second.
 *
 *   node web-viewer/bench/bench.js chromium-lab-bench
 *
 * CAMGW_CC_SCENARIOS=loss-5%-rtx,bursty-3%x4-rtx runs those of the
 * congestion lab's adapting one-viewer scenarios instead (Chromium always
 * offers RTX, so no `-no-rtx` ones), one after the other in one lab.
 */
import { build } from "esbuild";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { startNetLab, type NetLab } from "../../firmware-sim/src/net/net-lab.js";
import { scenarioFigures, type ViewerRecord } from "../../gateway/src/congestion-lab/figures.js";
import { formatFigures, formatSentSeries } from "../../gateway/src/congestion-lab/format.js";
import { runScenarioWith, type Watcher } from "../../gateway/src/congestion-lab/run-scenario.js";
import { repairCounters } from "../../gateway/src/congestion-lab/congestion-lab-bench.js";
import { allScenarios, LAB_STREAM } from "../../gateway/src/congestion-lab/scenarios.js";
import { round } from "../../gateway/src/probe/stats.js";
import { CHROMIUM_ARGS, waitFor } from "../test/harness/browser.js";

/** Where the page is served inside the viewer's namespace (its own loopback). */
const PAGE_PORT = 8765;

interface PageSecond {
  at: number;
  framesDecoded: number;
  freezeCount: number;
  totalFreezesDuration: number;
  bytesReceived: number;
  /** inbound-rtp frameWidth/frameHeight: the size Chromium decodes now (0 before a frame). */
  width: number;
  height: number;
  samples: number;
  error: string | undefined;
}

/** What Chromium's stats say now, and how many stamped frames the page has read. */
const readPage = (): Promise<PageSecond> =>
  (async () => {
    const out = {
      at: Date.now(),
      framesDecoded: 0,
      freezeCount: 0,
      totalFreezesDuration: 0,
      bytesReceived: 0,
      width: 0,
      height: 0,
      samples: window.benchSamples.length,
      error: window.benchError,
    };
    const stats = await window.benchPc?.getStats();
    stats?.forEach((s: Record<string, unknown>) => {
      if (s.type !== "inbound-rtp" || s.kind !== "video") return;
      out.framesDecoded = Number(s.framesDecoded ?? 0);
      out.freezeCount = Number(s.freezeCount ?? 0);
      out.totalFreezesDuration = Number(s.totalFreezesDuration ?? 0);
      out.bytesReceived = Number(s.bytesReceived ?? 0);
      out.width = Number(s.frameWidth ?? 0);
      out.height = Number(s.frameHeight ?? 0);
    });
    return out;
  })();

/**
 * A Chromium tab watching the call for `seconds`, its stats read once a
 * second into what figures.ts reads from a probe. Chromium counts a freeze
 * when it ends (the frame after the gap): it is placed where it began,
 * `totalFreezesDuration` before that second.
 */
function chromiumWatcher(lab: NetLab, browser: Browser): Watcher<ViewerRecord> {
  return async (viewer, call) => {
    const login = await call.gateway.addViewer(`chromium-${call.deviceId}`);
    const query = new URLSearchParams({
      broker: lab.broker?.wsUrl ?? "",
      device: call.deviceId,
      username: login.username,
      password: login.password,
    });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await waitFor(
        "the page in the viewer's namespace",
        async () =>
          (await page.goto(`http://127.0.0.1:${PAGE_PORT}/?${query.toString()}`))?.ok() === true,
        10_000,
      );
      const offerAt = Date.now();
      const timeline: NonNullable<ViewerRecord["timeline"]> = [];
      const freezeList: ViewerRecord["freezeList"] = [];
      const sizes: ViewerRecord["sizes"] = [];
      let prev: PageSecond | null = null;
      let allSamples: number[] = [];
      while (Date.now() < offerAt + call.seconds * 1000) {
        await new Promise((r) => setTimeout(r, 1000 - ((Date.now() - offerAt) % 1000)));
        const now = await page.evaluate(readPage);
        if (now.error) throw new Error(`${viewer.site}: the page failed: ${now.error}`);
        const samples = await page.evaluate(() => window.benchSamples);
        const fresh = samples.slice(allSamples.length);
        allSamples = samples;
        const before = prev ?? {
          ...now,
          framesDecoded: 0,
          bytesReceived: 0,
          freezeCount: 0,
          totalFreezesDuration: 0,
        };
        const atMs = Math.round((now.at - offerAt) / 1000) * 1000 - 1000;
        timeline.push({
          atMs,
          frames: now.framesDecoded - before.framesDecoded,
          kbps: round(((now.bytesReceived - before.bytesReceived) * 8) / 1000),
          glassToGlassMs: fresh.map((x) => round(x)),
        });
        const count = now.freezeCount - before.freezeCount;
        const ms = (now.totalFreezesDuration - before.totalFreezesDuration) * 1000;
        for (let i = 0; i < count; i++) {
          freezeList.push({ atMs: round(now.at - offerAt - ms), durationMs: round(ms / count) });
        }
        const size = sizes.at(-1);
        if (now.width > 0 && (size?.width !== now.width || size.height !== now.height)) {
          sizes.push({ atMs: round(now.at - offerAt), width: now.width, height: now.height });
        }
        prev = now;
      }
      const last = prev;
      console.log(
        `  chromium ${viewer.site}: framesDecoded ${last?.framesDecoded ?? 0}, freezeCount ${last?.freezeCount ?? 0}, totalFreezesDuration ${round(last?.totalFreezesDuration ?? 0, 2)} s`,
      );
      return {
        offerAt,
        watchedMs: Date.now() - offerAt,
        frames: last?.framesDecoded ?? 0,
        freezeList,
        timeline,
        sizes,
      };
    } finally {
      await context.close();
    }
  };
}

if (process.getuid?.() !== 0) {
  console.log("congestion lab with Chromium: skipped (needs root)");
} else {
  const here = dirname(fileURLToPath(import.meta.url));
  // bench.js bundles this file to build/web-viewer-bench/; the player sits beside its source.
  const player = await build({
    entryPoints: [join(here, "..", "..", "web-viewer", "bench", "plain-player.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    write: false,
    logLevel: "warning",
  });
  const dir = await mkdtemp(join(tmpdir(), "camgw-chromium-lab-"));
  await writeFile(join(dir, "player.js"), player.outputFiles[0]?.text ?? "");
  await writeFile(
    join(dir, "index.html"),
    '<!doctype html><meta charset="utf-8"><body><script type="module" src="/player.js"></script></body>',
  );
  const lab = await startNetLab({ boardNat: "eim", viewerNats: ["none"], turn: false });
  let browser: Browser | undefined;
  try {
    lab.spawn(
      "viewer1",
      "python3",
      ["-m", "http.server", String(PAGE_PORT), "--bind", "127.0.0.1", "--directory", dir],
      {
        stdio: "ignore",
      },
    );
    browser = await chromium.launch({
      executablePath: await lab.chromiumPath("viewer1"),
      args: CHROMIUM_ARGS,
      headless: true,
    });
    const names = process.env.CAMGW_CC_SCENARIOS?.split(",").filter(Boolean) ?? ["4M-800k-4M"];
    const scenarios = allScenarios()
      .filter((x) => x.adapt && names.includes(x.name) && x.viewers.length === 1)
      .filter((x) => x.viewers[0]?.rtx !== false)
      .map((x) => ({ ...x, name: `${x.name} chromium` }));
    const s = LAB_STREAM;
    console.log(
      `congestion lab, Chromium ${browser.version()} as the viewer (plain page): board pi5 (x264, realistic scene) ${s.width}x${s.height}@${s.fps} up to ${s.bitrateKbps} kbit/s; load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}`,
    );
    const all = [];
    for (const scenario of scenarios) {
      const run = await runScenarioWith(lab, scenario, LAB_STREAM, chromiumWatcher(lab, browser));
      const figures = scenarioFigures(run);
      all.push(figures);
      console.log(formatSentSeries(figures));
      if (!scenario.window.capBps) console.log(repairCounters(run.finalMetrics));
    }
    console.log(formatFigures(all));
    console.log(
      `load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(
          " ",
        )}; freezes from Chromium's freezeCount/totalFreezesDuration, fps from framesDecoded, g2g at expected display time`,
    );
  } finally {
    await browser?.close();
    await lab.close();
    await rm(dir, { recursive: true, force: true });
  }
}
