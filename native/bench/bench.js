#!/usr/bin/env node
// Native pipeline figures on the virtual board (called by `make bench`):
// 1280x720@30 through each encoder path; capture-to-JS latency p50/p95
// (V4L2 capture timestamp, mapped to CLOCK_REALTIME, to arrival in a JS
// 'frame' handler), encode time per frame, and CPU per second of video.
// Usage: node native/bench/bench.js [seconds=10] [software|hardware|passthrough|audio]
// (audio: native/bench/audio-bench.js, run after the video figures)
// The scenario is native/lib/testing/bench-scenario.ts, run through
// native/lib/testing/scenarios.ts bundled with esbuild.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildSync } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sim = join(root, "firmware-sim", "build", "libcamgw-vdev.so");
if (!existsSync(sim)) {
  console.error(`missing ${sim}: run \`make build\` first`);
  process.exit(1);
}
const seconds = Number(process.argv[2] ?? "10");
const only = process.argv[3];
const dir = mkdtempSync(join(tmpdir(), "camgw-native-bench-"));
// The scenarios, and the addon's one locator (native/lib/binding.ts), bundled
// for plain node.
buildSync({
  entryPoints: {
    scenarios: join(root, "native", "lib", "testing", "scenarios.ts"),
    binding: join(root, "native", "lib", "binding.ts"),
  },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outdir: dir,
  outExtension: { ".js": ".mjs" },
  logLevel: "error",
});
const bundle = join(dir, "scenarios.mjs");
const { locateAddon } = await import(pathToFileURL(join(dir, "binding.mjs")).href);
let addon;
try {
  // From native/lib, as if the bundle were still there (it runs from a
  // temporary directory); the child gets the path found.
  addon = locateAddon(join(root, "native", "lib"));
} catch (e) {
  console.error(e.message);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}

const base = { device: "/dev/video0", width: 1280, height: 720, fps: 30, bitrateKbps: 2000 };
const runs = [
  ["software", "pi5"],
  ["hardware", "pi4"],
  ["passthrough", "uvc-h264"],
];
if (only !== "audio") {
  console.log(`native pipeline, 1280x720@30, 2 Mbit/s, ${seconds} s each (after 1 s warm-up)`);
  console.log("CPU counts this process only: the addon plus the virtual board (its camera");
  console.log("pattern and, for 'hardware', the simulated VPU's own libx264).");
}
for (const [encoder, profile] of runs) {
  if (only !== undefined && only !== encoder) continue;
  const r = spawnSync(
    process.execPath,
    [bundle, "bench", JSON.stringify({ options: { ...base, encoder }, seconds })],
    {
      env: {
        ...process.env,
        LD_PRELOAD: sim,
        CAMGW_SIM_PROFILE: profile,
        CAMGW_NATIVE_ADDON: addon,
      },
      encoding: "utf8",
      timeout: (seconds + 30) * 1000,
    },
  );
  const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  if (r.status !== 0 || last === "") {
    console.log(`${encoder}: failed (${r.status ?? r.signal}) ${r.stderr ?? ""}`);
    continue;
  }
  const m = JSON.parse(last);
  const ms = (us) => (us / 1000).toFixed(2);
  console.log(
    `${encoder.padEnd(11)} (${profile}): capture->JS p50 ${ms(m.latencyP50Us)} ms, p95 ${ms(m.latencyP95Us)} ms; ` +
      `encode ${ms(m.encodeTimeMeanUs)} ms/frame; CPU ${m.cpuMsPerVideoSecond.toFixed(0)} ms per s of video; ` +
      `${m.frames} frames, ${m.dropped} dropped`,
  );
}
rmSync(dir, { recursive: true, force: true });

// Audio: a separate script (native/bench/audio-bench.js), run after the video figures.
if (only === undefined || only === "audio") {
  console.log("");
  spawnSync(process.execPath, [join(root, "native", "bench", "audio-bench.js"), String(seconds)], {
    stdio: "inherit",
  });
}
