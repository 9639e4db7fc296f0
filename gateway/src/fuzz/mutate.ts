/**
 * Hostile inputs as mutations of valid ones, the way libFuzzer's mutator
 * works (bit flips, interesting values, inserted dictionary tokens, cut,
 * repeated and spliced ranges): a valid seed gets a parser deep into its
 * code, a few mutations then test each check on the way. fast-check draws
 * the seed and the mutation list, so an input shrinks to the fewest, smallest
 * mutations that still fail, and a seed replays the exact run.
 */
import fc from "fast-check";

/** One edit; positions are taken modulo the current length. */
type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "set16"; at: number; value: number }
  | { op: "insert"; at: number; units: number[] }
  | { op: "token"; at: number; token: number }
  | { op: "delete"; at: number; length: number }
  | { op: "repeat"; at: number; length: number; times: number }
  | { op: "truncate"; at: number }
  | { op: "splice"; at: number; other: number; from: number };

/** Byte values that sit on boundaries parsers check (libFuzzer's "interesting" values). */
const INTERESTING_8 = [0, 1, 2, 3, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xfe, 0xff];
const INTERESTING_16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff, 0x8000, 0xfffe, 0xffff];

function mutationArbitrary(maxUnit: number, tokens: number, seeds: number): fc.Arbitrary<Mutation> {
  const at = fc.nat();
  const unit = fc.oneof(fc.constantFrom(...INTERESTING_8), fc.integer({ min: 0, max: maxUnit }));
  const options: fc.Arbitrary<Mutation>[] = [
    fc.record({ op: fc.constant("flip" as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant("set" as const), at, value: unit }),
    fc.record({
      op: fc.constant("set16" as const),
      at,
      value: fc.oneof(fc.constantFrom(...INTERESTING_16), fc.integer({ min: 0, max: 0xffff })),
    }),
    fc.record({
      op: fc.constant("insert" as const),
      at,
      units: fc.array(unit, { minLength: 1, maxLength: 16 }),
    }),
    fc.record({ op: fc.constant("delete" as const), at, length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({
      op: fc.constant("repeat" as const),
      at,
      length: fc.integer({ min: 1, max: 64 }),
      times: fc.integer({ min: 1, max: 64 }),
    }),
    fc.record({ op: fc.constant("truncate" as const), at }),
  ];
  if (tokens > 0) {
    options.push(
      fc.record({
        op: fc.constant("token" as const),
        at,
        token: fc.integer({ min: 0, max: tokens - 1 }),
      }),
    );
  }
  if (seeds > 1) {
    options.push(
      fc.record({
        op: fc.constant("splice" as const),
        at,
        other: fc.integer({ min: 0, max: seeds - 1 }),
        from: fc.nat(),
      }),
    );
  }
  return fc.oneof(...options);
}

/**
 * Bytes (Buffer) or text (string) as the mutator sees them: slices and
 * concatenation only, never an array of units (a 64 KiB input is mutated in
 * microseconds, not milliseconds).
 */
interface Units<S> {
  length(s: S): number;
  slice(s: S, from: number, to?: number): S;
  concat(parts: readonly S[]): S;
  from(units: readonly number[]): S;
  at(s: S, i: number): number;
}

const byteUnits: Units<Buffer> = {
  length: (s) => s.length,
  slice: (s, from, to) => s.subarray(from, to),
  concat: (parts) => Buffer.concat(parts),
  from: (units) => Buffer.from(units),
  at: (s, i) => s[i] ?? 0,
};

const textUnits: Units<string> = {
  length: (s) => s.length,
  slice: (s, from, to) => s.slice(from, to),
  concat: (parts) => parts.join(""),
  from: (units) => String.fromCharCode(...units),
  at: (s, i) => s.charCodeAt(i),
};

/** Applies `mutations` to `start` and returns the result. */
function apply<S>(
  k: Units<S>,
  start: S,
  mutations: readonly Mutation[],
  seeds: readonly S[],
  tokens: readonly S[],
  maxUnit: number,
  maxLength: number,
): S {
  let u = start;
  const pos = (at: number, extra = 0): number => at % (k.length(u) + extra || 1);
  const replace = (i: number, units: number[]): S =>
    k.concat([k.slice(u, 0, i), k.from(units), k.slice(u, i + units.length)]);
  for (const m of mutations) {
    const n = k.length(u);
    switch (m.op) {
      case "flip":
        if (n > 0) u = replace(pos(m.at), [(k.at(u, pos(m.at)) ^ (1 << m.bit)) & maxUnit]);
        break;
      case "set":
        if (n > 0) u = replace(pos(m.at), [m.value & maxUnit]);
        break;
      case "set16":
        if (n > 1) u = replace(pos(m.at) % (n - 1), [(m.value >> 8) & maxUnit, m.value & 0xff]);
        break;
      case "insert":
      case "token": {
        const i = pos(m.at, 1);
        const add = m.op === "insert" ? k.from(m.units) : (tokens[m.token] ?? k.from([]));
        u = k.concat([k.slice(u, 0, i), add, k.slice(u, i)]);
        break;
      }
      case "delete": {
        const i = pos(m.at);
        u = k.concat([k.slice(u, 0, i), k.slice(u, i + m.length)]);
        break;
      }
      case "repeat": {
        const i = pos(m.at);
        const range = k.slice(u, i, i + m.length);
        const times = Math.min(m.times, Math.floor((maxLength - n) / (k.length(range) || 1)));
        u = k.concat([
          k.slice(u, 0, i),
          ...new Array<S>(Math.max(0, times)).fill(range),
          k.slice(u, i),
        ]);
        break;
      }
      case "truncate":
        u = k.slice(u, 0, pos(m.at));
        break;
      case "splice": {
        const other = seeds[m.other] ?? k.from([]);
        u = k.concat([k.slice(u, 0, pos(m.at)), k.slice(other, m.from % (k.length(other) || 1))]);
        break;
      }
    }
    if (k.length(u) > maxLength) u = k.slice(u, 0, maxLength);
  }
  return u;
}

export interface MutationOptions {
  /** Strings a parser looks for (a libFuzzer dictionary): inserted whole. */
  tokens?: readonly string[];
  /** Largest input, in bytes or UTF-16 units. */
  maxLength?: number;
  /** Mutations per input, at most. */
  maxMutations?: number;
}

/** Bytes: a seed with a few mutations, or now and then plain random bytes. */
export function mutatedBytes(
  seeds: readonly Uint8Array[],
  options: MutationOptions = {},
): fc.Arbitrary<Uint8Array> {
  const maxLength = options.maxLength ?? 4096;
  const seedBuffers = seeds.map((s) => Buffer.from(s));
  const tokens = (options.tokens ?? []).map((t) => Buffer.from(t, "latin1"));
  const mutated = fc
    .tuple(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(mutationArbitrary(0xff, tokens.length, seeds.length), {
        maxLength: options.maxMutations ?? 6,
      }),
    )
    .map(([seed, mutations]) => {
      const out = apply(
        byteUnits,
        seedBuffers[seed] ?? Buffer.alloc(0),
        mutations,
        seedBuffers,
        tokens,
        0xff,
        maxLength,
      );
      // A copy: the input never aliases a seed, whatever the target does with it.
      return new Uint8Array(out);
    });
  return fc.oneof(
    { weight: 9, arbitrary: mutated },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: Math.min(maxLength, 256) }) },
  );
}

/**
 * Text: a seed with a few mutations on its UTF-16 code units (so lone
 * surrogates and control characters come up too), or now and then a random
 * string.
 */
export function mutatedText(
  seeds: readonly string[],
  options: MutationOptions = {},
): fc.Arbitrary<string> {
  const maxLength = options.maxLength ?? 4096;
  const tokens = options.tokens ?? [];
  const mutated = fc
    .tuple(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(mutationArbitrary(0xffff, tokens.length, seeds.length), {
        maxLength: options.maxMutations ?? 6,
      }),
    )
    .map(([seed, mutations]) =>
      apply(textUnits, seeds[seed] ?? "", mutations, seeds, tokens, 0xffff, maxLength),
    );
  return fc.oneof(
    { weight: 9, arbitrary: mutated },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: Math.min(maxLength, 256) }) },
  );
}
