/**
 * One fuzz target: a parser (or a chain of them) that sees the network, the
 * camera or the user, an fast-check arbitrary that produces hostile inputs
 * for it, and the properties every input must keep. `make fuzz` runs each
 * target for 1,000,000 inputs (gateway/src/fuzz/fuzz-runner.ts); `make test`
 * runs a short seeded pass plus the regression corpus (short-pass.test.ts).
 * docs/fuzzing.md lists the targets and their properties.
 */
import type { Arbitrary } from "fast-check";

/** How a target's inputs are written to (and read from) a corpus file. */
export type InputCodec<T> = {
  /** To a JSON value (bytes as hex, text as is). */
  encode(input: T): unknown;
  decode(value: unknown): T;
};

export interface FuzzTarget<T> {
  /** Short kebab-case name: the corpus folder and the report's row. */
  readonly name: string;
  /** What is fuzzed, for the report and docs/fuzzing.md. */
  readonly about: string;
  /** Hostile inputs, mostly mutations of valid ones. */
  readonly arbitrary: Arbitrary<T>;
  /**
   * Runs one input and throws PropertyViolation (or anything else: an
   * undocumented exception is a finding too) when a property does not hold.
   */
  readonly check: (input: T, notes: Notes) => void | Promise<void>;
  /** True when `check` returns a promise (it runs through fc.asyncProperty). */
  readonly async?: boolean;
  readonly codec: InputCodec<T>;
  /**
   * Time one input may take before it counts as a hang. Generous: the
   * machine is shared and noisy; a real hang (quadratic blow-up, a loop
   * that never ends) is orders of magnitude past it.
   */
  readonly budgetMs: number;
  /** The folder of regression inputs, relative to the repository root. */
  readonly corpusDir: string;
}

/**
 * A target for the registry (targets.ts), which holds targets of every input
 * type: each is only ever run with inputs from its own arbitrary and codec.
 */
export function defineTarget<T>(target: FuzzTarget<T>): FuzzTarget<unknown> {
  return target as unknown as FuzzTarget<unknown>;
}

/**
 * Counts of things worth reporting that are not failures (e.g. "werift's
 * RTCP parser threw, and werift's transport dropped the packet").
 */
export class Notes {
  readonly counts = new Map<string, number>();

  add(what: string, n = 1): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }
}

/** A property of the target that an input broke. */
export class PropertyViolation extends Error {
  override readonly name = "PropertyViolation";
}

/** Throws PropertyViolation with `message` unless `condition` holds. */
export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new PropertyViolation(message);
}

/**
 * Calls `fn`; returns what it returned, or the error when it threw one of
 * `allowed` (the module's documented error classes). Any other exception is
 * a PropertyViolation naming it.
 */
export function documentedThrow<R>(
  what: string,
  allowed: readonly (abstract new (...args: never[]) => Error)[],
  fn: () => R,
): { ok: true; value: R } | { ok: false; error: Error } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (allowed.some((cls) => error instanceof cls)) return { ok: false, error: error as Error };
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new PropertyViolation(`${what} threw an undocumented ${text}`, { cause: error });
  }
}

export const bytesCodec: InputCodec<Uint8Array> = {
  encode: (input) => Buffer.from(input).toString("hex"),
  decode: (value) => {
    if (typeof value !== "string") throw new TypeError("a bytes input is a hex string");
    return new Uint8Array(Buffer.from(value, "hex"));
  },
};

export const textCodec: InputCodec<string> = {
  encode: (input) => input,
  decode: (value) => {
    if (typeof value !== "string") throw new TypeError("a text input is a string");
    return value;
  },
};

/** For inputs that are plain JSON already (objects of strings, numbers, arrays). */
export function jsonCodec<T>(): InputCodec<T> {
  return { encode: (input) => input, decode: (value) => value as T };
}
