/**
 * One fuzz target in a worker thread of `make fuzz` (fuzz-runner.ts): its
 * regression corpus, then N inputs from the seed. Reports the inputs started
 * in a shared counter (the runner's watchdog reads it) and the result as a
 * message. In capture mode it writes the input with a given index to a file
 * before running it: how the runner recovers the input that hung.
 */
import { parentPort, workerData } from "node:worker_threads";
import { writeInput } from "./corpus.js";
import { replayCorpus, runTarget } from "./run-target.js";
import { targetNamed } from "./targets.js";

export interface WorkerJob {
  target: string;
  runs: number;
  seed: number;
  progress: SharedArrayBuffer;
  capture?: { index: number; file: string };
}

const job = workerData as WorkerJob;
const target = targetNamed(job.target);
const corpus = job.capture ? undefined : await replayCorpus(target);
const capture = job.capture;
const result = await runTarget(target, {
  runs: job.runs,
  seed: job.seed,
  progress: new Int32Array(job.progress),
  ...(capture
    ? {
        capture: {
          index: capture.index,
          write: (encoded: unknown) =>
            writeInput(
              capture.file,
              encoded,
              `make fuzz hang: seed ${job.seed}, input #${capture.index}`,
            ),
        },
      }
    : {}),
});
parentPort?.postMessage({ corpus, result });
