#!/usr/bin/env node
// `make bench`: prints the project's speed and memory figures. Each part
// runs on the virtual board on loopback; nothing here passes or fails.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

const only = process.argv[2];
const run = (name, cmd, args) => {
  if (only && only !== name) return;
  console.log(`\n== ${name} ==`);
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) console.log(`(${name} bench exited with ${r.status ?? r.signal})`);
};

if (existsSync("native/bench/bench.js")) run("native", process.execPath, ["native/bench/bench.js"]);
run("gateway", process.execPath, [
  "-e",
  "import('./build/gateway/src/bench/gateway-bench.js').then((m) => m.gatewayBench())",
]);
run("ice-servers", process.execPath, [
  "-e",
  "import('./build/gateway/src/bench/ice-servers-bench.js').then((m) => m.iceServersBench())",
]);
run("auth", process.execPath, [
  "-e",
  "import('./build/gateway/src/bench/auth-bench.js').then((m) => m.authBench())",
]);
run("snapshot", process.execPath, [
  "-e",
  "import('./build/gateway/src/bench/snapshot-bench.js').then((m) => m.snapshotBench())",
]);
run("faults", process.execPath, [
  "-e",
  "import('./build/gateway/src/bench/fault-bench.js').then((m) => m.faultBench())",
]);
run("control", process.execPath, [
  "-e",
  "import('./build/gateway/src/bench/control-bench.js').then((m) => m.controlBench())",
]);
run("camera", process.execPath, [
  "-e",
  "import('./build/firmware-sim/src/scene-bench.js').then((m) => m.sceneBench())",
]);
run("netlab", process.execPath, [
  "-e",
  "import('./build/firmware-sim/src/net/net-lab-bench.js').then((m) => m.netLabBench())",
]);
run("pacing", process.execPath, [
  "-e",
  "import('./build/gateway/src/bench/pacing-bench.js').then((m) => m.pacingBench())",
]);
run("matrix", process.execPath, [
  "-e",
  "import('./build/gateway/src/traversal/matrix-bench.js').then((m) => m.matrixBench())",
]);
run("recovery", process.execPath, [
  "-e",
  "import('./build/gateway/src/traversal/recovery-bench.js').then((m) => m.recoveryBench())",
]);
run("congestion-lab", process.execPath, [
  "-e",
  "import('./build/gateway/src/congestion-lab/congestion-lab-bench.js').then((m) => m.congestionLabBench())",
]);
if (existsSync("web-viewer/bench/bench.js")) {
  run("browser", process.execPath, ["web-viewer/bench/bench.js"]);
  run("playout-delay", process.execPath, ["web-viewer/bench/bench.js", "playout-delay-bench"]);
  run("congestion-chromium", process.execPath, ["web-viewer/bench/bench.js", "chromium-lab-bench"]);
  run("audio", process.execPath, ["web-viewer/bench/bench.js", "av-bench"]);
}
