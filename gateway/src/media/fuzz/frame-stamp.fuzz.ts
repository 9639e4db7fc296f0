/**
 * Fuzz target "frame-stamp": the frame stamp reader (frame-stamp.ts,
 * docs/frame-stamp.md) on decoded pictures of any size, stride and scale,
 * stamped or not, then damaged. Properties: nothing throws; a stamp written
 * into a picture at least 128 pixels wide reads back exactly; whatever is
 * read from any picture is a time whose CRC-8 checks.
 */
import fc from "fast-check";
import { decodeStampWord, readStamp, stampWord, writeStamp } from "../frame-stamp.js";
import { defineTarget, documentedThrow, expectThat, jsonCodec } from "../../fuzz/fuzz-target.js";

type Input = {
  width: number;
  height: number;
  padding: number;
  /** Capture time in microseconds, as a decimal string (JSON has no bigint). */
  time: string;
  stamp: boolean;
  /** [offset, value] pairs written over the picture after stamping. */
  damage: [number, number][];
  /** The size the reader is told the picture was encoded at. */
  source: [number, number] | null;
};

export const frameStampTarget = defineTarget({
  name: "frame-stamp",
  about: "readStamp on pictures of any size, stride and scale, stamped or not, damaged",
  arbitrary: fc.record(
    {
      width: fc.oneof(fc.integer({ min: 0, max: 320 }), fc.constantFrom(64, 127, 128, 129, 640)),
      height: fc.integer({ min: 0, max: 64 }),
      padding: fc.integer({ min: 0, max: 16 }),
      time: fc.bigInt({ min: 1n, max: (1n << 56n) - 1n }).map(String),
      stamp: fc.boolean(),
      damage: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      source: fc.option(
        fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 2000 })),
        {
          nil: null,
        },
      ),
    },
    { noNullPrototype: true },
  ),
  codec: jsonCodec<Input>(),
  budgetMs: 250,
  corpusDir: "gateway/src/media/fuzz/corpus/frame-stamp",
  check(input: Input) {
    const { width, height, padding, stamp, damage, source } = input;
    const time = BigInt(input.time);
    const stride = width + padding;
    const data = new Uint8Array(stride * height).fill(16);
    if (stamp && width > 0 && height > 0) writeStamp({ data, width, height, stride }, time);
    const clean = width >= 128 && height >= 16 && stamp;
    if (clean) {
      const read = readStamp({ data, width, height, stride });
      expectThat(read === time, `wrote ${time} into ${width}x${height}, read ${String(read)}`);
    }
    for (const [at, value] of damage) if (data.length > 0) data[at % data.length] = value;
    const read = documentedThrow("readStamp", [], () =>
      source === null
        ? readStamp({ data, width, height, stride })
        : readStamp({ data, width, height, stride }, source[0], source[1]),
    );
    if (!read.ok) throw read.error;
    if (read.value !== null) {
      expectThat(
        read.value > 0n &&
          read.value < 1n << 56n &&
          decodeStampWord(stampWord(read.value)) === read.value,
        `read ${read.value}, not a stamp time`,
      );
    }
  },
});
