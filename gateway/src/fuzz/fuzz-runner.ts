/**
 * `make fuzz`: every target (or those named) for 1,000,000 inputs each, in
 * worker threads (--jobs at a time), with a watchdog: a target whose
 * input counter stands still for --stall seconds is hung; its worker is
 * ended and the same seed replayed up to that input to save it. Prints a
 * table (inputs, seconds, inputs/s, failures, hangs, notes), writes
 * build/fuzz/report.json, saves failing inputs to build/fuzz/findings/ in
 * corpus format, and exits 1 on any failure or hang. docs/fuzzing.md.
 *
 *   node build/fuzz/gateway/src/fuzz/fuzz-runner.js [--runs N] [--seed S]
 *        [--jobs J] [--stall SECONDS] [target ...]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { repoRoot, writeInput } from "./corpus.js";
import type { RunResult } from "./run-target.js";
import { TARGETS, targetNamed } from "./targets.js";
import type { WorkerJob } from "./fuzz-worker.js";

interface Outcome {
  target: string;
  inputs: number;
  seconds: number;
  /** CPU seconds of the target's thread, when /proc tells. */
  cpuSeconds: number | null;
  corpusFiles: number;
  failure: string | undefined;
  hang: string | undefined;
  notes: Record<string, number>;
}

const { values, positionals } = parseArgs({
  options: {
    runs: { type: "string", default: "1000000" },
    seed: { type: "string" },
    jobs: { type: "string", default: String(Math.min(2, availableParallelism())) },
    stall: { type: "string", default: "120" },
  },
  allowPositionals: true,
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const jobs = Math.max(1, Number(values.jobs));
const stallMs = Number(values.stall) * 1000;
const targets = positionals.length > 0 ? positionals.map(targetNamed) : TARGETS;
const out = join(repoRoot(), "build", "fuzz");
const workerFile = new URL("./fuzz-worker.js", import.meta.url);

function spawn(job: Omit<WorkerJob, "progress">): {
  worker: Worker;
  progress: Int32Array;
  done: Promise<{ corpus?: { files: number; failure: string | undefined }; result: RunResult }>;
} {
  const shared = new SharedArrayBuffer(4);
  const worker = new Worker(workerFile, { workerData: { ...job, progress: shared } });
  const done = new Promise<{
    corpus?: { files: number; failure: string | undefined };
    result: RunResult;
  }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return { worker, progress: new Int32Array(shared), done };
}

async function captureHang(target: string, index: number): Promise<string> {
  const file = join(out, "findings", `${target}-hang-${seed}-${index}.json`);
  const { worker, progress, done } = spawn({
    target,
    runs: index + 1,
    seed,
    capture: { index, file },
  });
  done.catch(() => undefined);
  // Past the hung input's start it is written; give it the stall time again, then end it.
  const deadline = Date.now() + stallMs;
  while (Atomics.load(progress, 0) <= index && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await worker.terminate();
  return file;
}

async function fuzzOne(target: string): Promise<Outcome> {
  const started = Date.now();
  const { worker, progress, done } = spawn({ target, runs, seed });
  let last = 0;
  let lastMove = Date.now();
  let lastPrint = Date.now();
  const watchdog = setInterval(() => {
    const now = Date.now();
    const n = Atomics.load(progress, 0);
    if (n !== last) {
      last = n;
      lastMove = now;
    }
    if (now - lastPrint >= 60_000) {
      lastPrint = now;
      const rate = n / ((now - started) / 1000);
      console.log(`  ${target}: ${n} inputs, ${rate.toFixed(0)}/s`);
    }
    if (now - lastMove > stallMs) void worker.terminate();
  }, 1000);
  try {
    const { corpus, result } = await done;
    const failure = corpus?.failure ?? result.failure;
    let failureText: string | undefined;
    if (corpus?.failure) failureText = `corpus: ${corpus.failure}`;
    else if (result.failure) {
      const file = join(out, "findings", `${target}-${seed}.json`);
      writeInput(
        file,
        result.failure.input,
        `make fuzz: seed ${seed}, path ${result.failure.path ?? "?"}: ${result.failure.message}`,
      );
      failureText = `${result.failure.message} (input saved to ${file})`;
    }
    return {
      target,
      inputs: result.runs,
      seconds: result.ms / 1000,
      cpuSeconds: result.cpuMs === null ? null : result.cpuMs / 1000,
      corpusFiles: corpus?.files ?? 0,
      failure: failure === undefined ? undefined : failureText,
      hang: undefined,
      notes: result.notes,
    };
  } catch {
    const hungAt = Atomics.load(progress, 0) - 1;
    const file = await captureHang(target, hungAt);
    return {
      target,
      inputs: hungAt,
      seconds: (Date.now() - started) / 1000,
      cpuSeconds: null,
      corpusFiles: 0,
      failure: undefined,
      hang: `input #${hungAt} ran over ${stallMs / 1000} s (saved to ${file})`,
      notes: {},
    };
  } finally {
    clearInterval(watchdog);
  }
}

console.log(
  `make fuzz: ${targets.length} targets, ${runs} inputs each, seed ${seed}, ${jobs} at a time`,
);
const t0 = Date.now();
const queue = targets.map((t) => t.name);
const outcomes: Outcome[] = [];
await Promise.all(
  Array.from({ length: jobs }, async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const o = await fuzzOne(name);
      outcomes.push(o);
      const verdict = o.failure ? "FAILED" : o.hang ? "HUNG" : "ok";
      console.log(
        `${o.target}: ${verdict}, ${o.inputs} inputs in ${o.seconds.toFixed(0)} s (${(o.inputs / o.seconds).toFixed(0)}/s)`,
      );
    }
  }),
);
outcomes.sort(
  (a, b) =>
    targets.findIndex((t) => t.name === a.target) - targets.findIndex((t) => t.name === b.target),
);

const perCpuSecond = (o: Outcome): number | null =>
  o.cpuSeconds === null || o.cpuSeconds === 0 ? null : o.inputs / o.cpuSeconds;
const rows = outcomes.map((o) => [
  o.target,
  String(o.inputs),
  o.seconds.toFixed(0),
  (o.inputs / o.seconds).toFixed(0),
  o.cpuSeconds === null ? "?" : o.cpuSeconds.toFixed(1),
  perCpuSecond(o)?.toFixed(0) ?? "?",
  o.failure ? "1" : "0",
  o.hang ? "1" : "0",
]);
const head = [
  "target",
  "inputs",
  "seconds",
  "inputs/s",
  "CPU s",
  "inputs/CPU s",
  "crashes",
  "hangs",
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (cells: string[]): string =>
  cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
console.log(`\n${line(head)}\n${rows.map(line).join("\n")}`);
const cpuTotal = outcomes.reduce((sum, o) => sum + (o.cpuSeconds ?? 0), 0);
console.log(
  `total: ${((Date.now() - t0) / 1000).toFixed(0)} s wall, ${cpuTotal.toFixed(0)} s of CPU, seed ${seed}`,
);
// CPU time, not wall: a shared machine stretches wall time by its load.
const rates = outcomes.map(perCpuSecond);
if (rates.every((r) => r !== null && r > 0)) {
  const hours = rates.reduce<number>((sum, r) => sum + 1_000_000 / (r ?? 1), 0) / 3600;
  console.log(
    `at these rates, 1,000,000 inputs of each of these targets take ${hours.toFixed(2)} CPU hours`,
  );
}
for (const o of outcomes) {
  for (const [what, n] of Object.entries(o.notes)) console.log(`  ${o.target}: ${what}: ${n}`);
  if (o.failure) console.log(`  ${o.target} FAILED: ${o.failure}`);
  if (o.hang) console.log(`  ${o.target} HUNG: ${o.hang}`);
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "report.json"), JSON.stringify({ seed, runs, outcomes }, null, 2) + "\n");
process.exitCode = outcomes.some((o) => o.failure || o.hang) ? 1 : 0;
