import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";

// Tests sit beside the code they test. Integration tests boot the virtual board
// and real brokers, so they get generous timeouts; speed is measured by
// `make bench`, never asserted here.
const ALL = [
  "gateway/src/**/*.test.ts",
  "native/**/*.test.ts",
  "firmware-sim/src/**/*.test.ts",
  "web-viewer/src/**/*.test.ts",
  "web-viewer/test/**/*.test.ts",
  "tools/**/*.test.ts",
  "deploy/**/*.test.ts",
];
const EXCLUDE = [...configDefaults.exclude, "**/build/**"];

// Tests that run in the test process alone (library code, werift peers and
// an aedes broker on loopback ports of their own) go two files at a time,
// before the rest. (One at a time, `make test`'s vitest part took 24 minutes
// on 2 cores, 5 of them in these files.) A test that starts a process of its
// own (the virtual board, camgw, Chromium, Mosquitto, coturn, ffmpeg) runs
// in the serial group: name it *.e2e.test.ts, *.mosquitto.test.ts or
// *.browser.test.ts, or list it in STARTS_PROCESSES.
const IN_PROCESS_DIRS = [
  "gateway/src/auth",
  "gateway/src/congestion",
  "gateway/src/control",
  "gateway/src/homeassistant",
  "gateway/src/http",
  "gateway/src/media",
  "gateway/src/probe",
  "gateway/src/rtp",
  "gateway/src/signaling",
  "gateway/src/soak",
  "gateway/src/webrtc",
  "gateway/src/whep",
  "web-viewer/src",
];
const IN_PROCESS_TOP = ["gateway/src/cli-args.test.ts", "gateway/src/config.test.ts"];
const STARTS_PROCESSES = new Set([
  "gateway/src/congestion/trace.test.ts",
  "gateway/src/control/app-bridge.test.ts",
  "gateway/src/homeassistant/home-assistant-link.test.ts",
  "gateway/src/media/frame-stamp.test.ts",
  "gateway/src/media/supervised-source.test.ts",
  "gateway/src/signaling/nagle.test.ts",
  "gateway/src/soak/soak-plan.test.ts",
  "gateway/src/webrtc/ice-server-provider.test.ts",
  "gateway/src/webrtc/send/audio-fanout.test.ts",
  "gateway/src/webrtc/werift-patches/turn-allocation-lifecycle.test.ts",
  "gateway/src/webrtc/werift-patches/turn-transport-race.test.ts",
  "web-viewer/src/codecs.test.ts",
]);
const PROCESS_SUFFIXES = [".e2e.test.ts", ".mosquitto.test.ts", ".browser.test.ts"];

const ROOT = fileURLToPath(new URL(".", import.meta.url));
const IN_PROCESS = [
  ...IN_PROCESS_DIRS.flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" }).map((file) =>
      join(dir, file),
    ),
  ),
  ...IN_PROCESS_TOP,
].filter(
  (file) =>
    file.endsWith(".test.ts") &&
    !PROCESS_SUFFIXES.some((suffix) => file.endsWith(suffix)) &&
    !STARTS_PROCESSES.has(file),
);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "in-process",
          include: IN_PROCESS,
          exclude: EXCLUDE,
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // One file at a time: each has the machine's cores (and Chromium's
        // decoder, the network lab's namespaces) to itself.
        extends: true,
        test: {
          name: "system",
          include: ALL,
          exclude: [...EXCLUDE, ...IN_PROCESS],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
