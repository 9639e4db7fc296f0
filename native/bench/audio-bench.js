#!/usr/bin/env node
// Audio capture figures on the virtual board (called by bench.js, hence by
// `make bench`): capture-to-JS latency p50/p95 (the packet's first sample,
// by the device timestamp mapped to CLOCK_REALTIME, to its arrival in a JS
// 'packet' handler; a 20 ms packet is complete 20 ms after its first
// sample), Opus encode time per packet, and CPU per second of audio.
// Usage: node native/bench/audio-bench.js [seconds=10]
// The scenario is audioBench in native/lib/testing/audio-scenarios.ts.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sim = join(root, "firmware-sim", "build", "libcamgw-vdev.so");
if (!existsSync(sim) || !existsSync(join(root, "build", "native", "lib", "binding.js"))) {
  console.error("the virtual board or the compiled native/lib is missing: run `make build` first");
  process.exit(1);
}
// The addon's one locator (native/lib/binding.ts), asked from native/lib: the
// bundle below runs from a temporary directory, where it would find nothing.
const { locateAddon } = await import(join(root, "build", "native", "lib", "binding.js"));
const addon = locateAddon(join(root, "native", "lib"));
const seconds = Number(process.argv[2] ?? "10");
const dir = mkdtempSync(join(tmpdir(), "camgw-audio-bench-"));
const bundle = join(dir, "scenarios.mjs");
buildSync({
  entryPoints: [join(root, "native", "lib", "testing", "scenarios.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: bundle,
  logLevel: "error",
});
console.log(
  `audio capture, hw:CARD=Device,DEV=0 -> Opus 32 kbit/s mono, 20 ms, ${seconds} s (after 1 s warm-up)`,
);
console.log("CPU counts this process only: the addon (ALSA, Opus) plus the virtual sound card.");
const r = spawnSync(
  process.execPath,
  [bundle, "audioBench", JSON.stringify({ device: "hw:CARD=Device,DEV=0", seconds })],
  {
    env: { ...process.env, LD_PRELOAD: sim, CAMGW_SIM_PROFILE: "pi5", CAMGW_NATIVE_ADDON: addon },
    encoding: "utf8",
    timeout: (seconds + 30) * 1000,
  },
);
const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
if (r.status !== 0 || last === "") {
  console.log(`audio: failed (${r.status ?? r.signal}) ${r.stderr ?? ""}`);
} else {
  const m = JSON.parse(last);
  const ms = (us) => (us / 1000).toFixed(2);
  console.log(
    `first sample->JS p50 ${ms(m.latencyP50Us)} ms, p95 ${ms(m.latencyP95Us)} ms ` +
      `(last sample->JS p50 ${ms(m.latencyP50Us - 20000)} ms); encode ${ms(m.encodeTimeMeanUs)} ms/packet; ` +
      `CPU ${m.cpuMsPerAudioSecond.toFixed(1)} ms per s of audio; ${m.packets} packets, ` +
      `${m.dropped} dropped, ${m.xruns} xruns`,
  );
}
rmSync(dir, { recursive: true, force: true });
