/**
 * Runs one fuzz target: N inputs from a seed (reproducible), each held to
 * the target's properties and to its time budget, or the regression corpus.
 * Used by the short pass (short-pass.test.ts) and by `make fuzz`'s workers.
 */
import fc from "fast-check";
import { readCorpus } from "./corpus.js";
import { Notes, PropertyViolation, type FuzzTarget } from "./fuzz-target.js";
import { threadCpuMs } from "./thread-cpu.js";

export interface Failure {
  message: string;
  /** The (shrunk) failing input, as the target's codec writes it. */
  input: unknown;
  /** fast-check's replay path of the shrunk input (with the seed). */
  path: string | undefined;
}

export interface RunResult {
  target: string;
  seed: number;
  runs: number;
  /** Wall time of the run. */
  ms: number;
  /**
   * CPU time of the run's thread (null where /proc/thread-self is missing):
   * what the projection of `make fuzz` uses, since a shared machine stretches
   * wall time. Work V8 does on its own threads (parallel GC) is not in it.
   */
  cpuMs: number | null;
  failure: Failure | undefined;
  notes: Record<string, number>;
}

export interface RunOptions {
  runs: number;
  seed: number;
  /** Atomics.store(progress, 0, inputs started) before each input, for a watchdog. */
  progress?: Int32Array;
  /** Called with each input before it runs when its index is this (to capture a hang). */
  capture?: { index: number; write: (input: unknown) => void };
}

/**
 * An input's cost: the CPU time its thread spent on it where /proc tells
 * (see thread-cpu.ts), else wall time. A wall time past WALL_FACTOR budgets
 * is over budget too: an input that waits on a timer or a promise that
 * never settles burns no CPU.
 */
const WALL_FACTOR = 20;

class InputClock {
  readonly #wall0 = performance.now();
  readonly #cpu0 = threadCpuMs();

  overBudget(budgetMs: number): string | undefined {
    const wall = performance.now() - this.#wall0;
    const cpu1 = threadCpuMs();
    const cpu = this.#cpu0 === null || cpu1 === null ? null : cpu1 - this.#cpu0;
    if ((cpu ?? wall) <= budgetMs && wall <= budgetMs * WALL_FACTOR) return undefined;
    return cpu === null
      ? `${wall.toFixed(0)} ms`
      : `${cpu.toFixed(0)} ms of CPU (${wall.toFixed(0)} ms wall)`;
  }
}

function hang(took: string, budgetMs: number): PropertyViolation {
  return new PropertyViolation(
    `hang: one input took ${took} three times (budget ${budgetMs} ms of CPU)`,
  );
}

/**
 * One input, timed. A thread cannot use more CPU than the wall time that
 * passes, so an input within its budget of wall time is within its budget of
 * CPU: that (nearly every input) costs two performance.now(). Only an input
 * over it is timed by CPU, which reads /proc (two reads cost as much as a
 * fast target's whole input): it runs three more times, and counts as a hang
 * when all three go over. A GC pause or a starved thread is not one, a
 * quadratic blow-up is slow every time.
 */
async function runOne<T>(target: FuzzTarget<T>, input: T, notes: Notes): Promise<void> {
  const wall0 = performance.now();
  await target.check(input, notes);
  if (performance.now() - wall0 <= target.budgetMs) return;
  for (let attempt = 0; ; attempt++) {
    const clock = new InputClock();
    await target.check(input, notes);
    const took = clock.overBudget(target.budgetMs);
    if (took === undefined) return;
    if (attempt === 2) throw hang(took, target.budgetMs);
  }
}

function checkSync<T>(target: FuzzTarget<T>, input: T, notes: Notes): void {
  const pending = target.check(input, notes);
  if (pending instanceof Promise) {
    throw new Error(`fuzz target ${target.name} is async: mark it async: true`);
  }
}

/** runOne for a target whose check returns no promise (fc.property, not asyncProperty). */
function runOneSync<T>(target: FuzzTarget<T>, input: T, notes: Notes): void {
  const wall0 = performance.now();
  checkSync(target, input, notes);
  if (performance.now() - wall0 <= target.budgetMs) return;
  for (let attempt = 0; ; attempt++) {
    const clock = new InputClock();
    checkSync(target, input, notes);
    const took = clock.overBudget(target.budgetMs);
    if (took === undefined) return;
    if (attempt === 2) throw hang(took, target.budgetMs);
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Runs `fn` with Error.stackTraceLimit 0. Hostile inputs make parsers throw
 * or collect errors by the dozen (yaml 2.9.1 builds a YAMLParseError per
 * problem: 27 for a mutated config of 1-4 KB, 200 for 8 KB), and capturing a
 * stack costs about ten times the rest of an Error (5-10 us against 0.9 on
 * the shared machine): 15% of config-file's time. No property looks at a
 * stack, a finding is reported by name and message, and no code under test
 * reads one (gateway/src, yaml, werift: only cli.ts prints it, under
 * CAMGW_DEBUG). Replay a finding outside runTarget to see where it threw.
 */
async function withoutStackTraces<R>(fn: () => R | Promise<R>): Promise<R> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** `runs` seeded inputs. */
export async function runTarget<T>(target: FuzzTarget<T>, options: RunOptions): Promise<RunResult> {
  const notes = new Notes();
  let started = 0;
  const before = (input: T): void => {
    if (options.capture?.index === started) options.capture.write(target.codec.encode(input));
    started++;
    if (options.progress) Atomics.store(options.progress, 0, started);
  };
  const parameters = { numRuns: options.runs, seed: options.seed };
  const t0 = performance.now();
  const cpu0 = threadCpuMs();
  const details = await withoutStackTraces(() =>
    target.async
      ? fc.check(
          fc.asyncProperty(target.arbitrary, async (input) => {
            before(input);
            await runOne(target, input, notes);
          }),
          parameters,
        )
      : fc.check(
          fc.property(target.arbitrary, (input) => {
            before(input);
            runOneSync(target, input, notes);
          }),
          parameters,
        ),
  );
  const ms = performance.now() - t0;
  const cpu1 = threadCpuMs();
  const cpuMs = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  let failure: Failure | undefined;
  if (details.failed) {
    const [input] = details.counterexample ?? [];
    failure = {
      message: details.errorInstance === null ? "failed" : errorText(details.errorInstance),
      input: input === undefined ? null : target.codec.encode(input),
      path: details.counterexamplePath ?? undefined,
    };
  }
  return {
    target: target.name,
    seed: options.seed,
    runs: details.numRuns,
    ms,
    cpuMs,
    failure,
    notes: Object.fromEntries(notes.counts),
  };
}

/** Every input of the target's regression corpus; the first failure, by file. */
export async function replayCorpus<T>(
  target: FuzzTarget<T>,
): Promise<{ files: number; failure: string | undefined; notes: Record<string, number> }> {
  const notes = new Notes();
  const entries = readCorpus(target);
  for (const entry of entries) {
    try {
      await runOne(target, entry.input, notes);
    } catch (error) {
      return {
        files: entries.length,
        failure: `${target.corpusDir}/${entry.file} (${entry.origin}): ${errorText(error)}`,
        notes: Object.fromEntries(notes.counts),
      };
    }
  }
  return { files: entries.length, failure: undefined, notes: Object.fromEntries(notes.counts) };
}
