/**
 * Fuzz target "access-unit-splitter": the Annex-B byte stream of a pipe
 * source (pipe-source.ts), cut into chunks anywhere, through
 * AccessUnitSplitter. Properties: only RangeError (no access unit boundary
 * within the limit) is thrown; every unit is Annex-B with 4-byte start codes
 * and says keyframe exactly when it holds an IDR slice; the units carry the
 * stream's NAL units in order, all but those waiting at the end for a slice
 * (a reference split of the whole stream says which); and where the chunks fall changes nothing.
 */
import fc from "fast-check";
import { AccessUnitSplitter, type SplitUnit } from "../access-unit-splitter.js";
import { defineTarget, documentedThrow, expectThat } from "../../fuzz/fuzz-target.js";
import { BASELINE_ACCESS_UNITS, HIGH_ACCESS_UNIT } from "../../fuzz/h264-samples.js";
import { mutatedBytes } from "../../fuzz/mutate.js";

type Input = { stream: string; cuts: number[]; maxBytes: number };

const START3 = Buffer.from([0, 0, 1]);

/** The stream's NAL units: bytes between start codes, trailing zeros trimmed, empty ones skipped. */
function referenceNals(stream: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = stream.indexOf(START3); i >= 0; i = stream.indexOf(START3, i + 3)) starts.push(i);
  const nals: Buffer[] = [];
  starts.forEach((s, k) => {
    let end = starts[k + 1] ?? stream.length;
    while (end > s + 3 && stream[end - 1] === 0) end--;
    if (end > s + 3) nals.push(stream.subarray(s + 3, end));
  });
  return nals;
}

/** A unit's NAL units (it is written by the splitter with 4-byte start codes only). */
function unitNals(unit: SplitUnit): Buffer[] {
  const parts: Buffer[] = [];
  let at = 0;
  const START4 = Buffer.from([0, 0, 0, 1]);
  expectThat(
    unit.data.subarray(0, 4).equals(START4),
    "a unit that does not begin with 00 00 00 01",
  );
  while (at < unit.data.length) {
    const next = unit.data.indexOf(START4, at + 4);
    parts.push(unit.data.subarray(at + 4, next < 0 ? unit.data.length : next));
    at = next < 0 ? unit.data.length : next;
  }
  return parts;
}

function split(stream: Buffer, cuts: readonly number[], maxBytes: number): SplitUnit[] | Error {
  const units: SplitUnit[] = [];
  const splitter = new AccessUnitSplitter((u) => units.push(u), { maxAccessUnitBytes: maxBytes });
  const run = documentedThrow("AccessUnitSplitter", [RangeError], () => {
    let from = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const to = Math.min(cut, stream.length);
      if (to > from) splitter.push(stream.subarray(from, to));
      from = Math.max(from, to);
    }
    if (from < stream.length) splitter.push(stream.subarray(from));
    splitter.flush();
  });
  return run.ok ? units : run.error;
}

const opensUnit = (nal: Buffer): boolean => [6, 7, 8, 9].includes((nal[0] ?? 0) & 0x1f);
const isVcl = (nal: Buffer): boolean => ((nal[0] ?? 0) & 0x1f) >= 1 && ((nal[0] ?? 0) & 0x1f) <= 5;

export const accessUnitSplitterTarget = defineTarget({
  name: "access-unit-splitter",
  about: "a pipe source's Annex-B stream, cut anywhere, through AccessUnitSplitter",
  arbitrary: fc
    .record({
      stream: mutatedBytes(
        [Buffer.concat([...BASELINE_ACCESS_UNITS]), HIGH_ACCESS_UNIT, ...BASELINE_ACCESS_UNITS],
        {
          tokens: [
            "\x00\x00\x01",
            "\x00\x00\x00\x01",
            "\x09\xf0",
            "\x65\x88",
            "\x41\x9a",
            "\x41\x1a",
            "\x00",
          ],
          maxLength: 8192,
        },
      ),
      cuts: fc.array(fc.nat({ max: 8192 }), { maxLength: 12 }),
      maxBytes: fc.oneof(
        { weight: 4, arbitrary: fc.constant(8 << 20) },
        fc.integer({ min: 1, max: 4096 }),
      ),
    })
    .map(({ stream, cuts, maxBytes }) => ({
      stream: Buffer.from(stream).toString("hex"),
      cuts,
      maxBytes,
    })),
  codec: { encode: (input: Input) => input, decode: (value: unknown) => value as Input },
  budgetMs: 250,
  corpusDir: "gateway/src/media/fuzz/corpus/access-unit-splitter",
  check({ stream: hex, cuts, maxBytes }: Input) {
    const stream = Buffer.from(hex, "hex");
    const whole = split(stream, [], maxBytes);
    const chunked = split(stream, cuts, maxBytes);
    if (whole instanceof Error || chunked instanceof Error) return;
    const said = (units: SplitUnit[]): string =>
      JSON.stringify(units.map((u) => [u.data.toString("hex"), u.keyframe, u.continuation]));
    expectThat(said(whole) === said(chunked), `chunks at ${JSON.stringify(cuts)} change the units`);
    const emitted: Buffer[] = [];
    for (const unit of whole) {
      const nals = unitNals(unit);
      const idr = nals.some((n) => ((n[0] ?? 0) & 0x1f) === 5);
      expectThat(
        unit.keyframe === idr,
        `a unit with keyframe=${unit.keyframe} ${idr ? "has" : "has no"} IDR`,
      );
      emitted.push(...nals);
    }
    const ref = referenceNals(stream);
    // Held back at the end: from the first NAL unit after the last slice
    // that opens a new access unit (AUD, SPS, PPS, SEI) on, waiting for a
    // slice that never came; NAL units that open nothing (end of sequence,
    // filler...) travel with the last picture.
    let end = -1;
    ref.forEach((n, i) => {
      if (isVcl(n)) end = i + 1;
    });
    while (end > 0 && end < ref.length && !opensUnit(ref[end] ?? Buffer.alloc(0))) end++;
    const want = ref.slice(0, Math.max(end, 0));
    expectThat(
      emitted.length === want.length &&
        emitted.every((n, i) => n.equals(want[i] ?? Buffer.alloc(0))),
      `the units carry ${emitted.length} NAL units; the stream has ${want.length} up to its last slice`,
    );
  },
});
