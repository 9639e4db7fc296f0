/**
 * Fuzz target "h264-sps": sequence parameter sets as a stream carries them
 * (the probe reads the picture size from them) through unescapeRbsp and
 * parseSpsSize. Properties: only RangeError (truncated or malformed) is
 * thrown; a parsed size is whole macroblocks coded, a positive picture
 * after cropping, and a crop rectangle inside the coded picture.
 */
import { splitAnnexB } from "../../rtp/annexb.js";
import { bytesCodec, defineTarget, documentedThrow, expectThat } from "../../fuzz/fuzz-target.js";
import { BASELINE_ACCESS_UNITS, HIGH_ACCESS_UNIT } from "../../fuzz/h264-samples.js";
import { mutatedBytes } from "../../fuzz/mutate.js";
import { parseSpsSize, unescapeRbsp } from "../h264-sps.js";

const spsOf = (au: Buffer): Buffer[] => splitAnnexB(au).filter((n) => ((n[0] ?? 0) & 0x1f) === 7);

export const h264SpsTarget = defineTarget({
  name: "h264-sps",
  about: "SPS NAL units through unescapeRbsp and parseSpsSize",
  arbitrary: mutatedBytes(
    [...spsOf(BASELINE_ACCESS_UNITS[0] ?? Buffer.alloc(0)), ...spsOf(HIGH_ACCESS_UNIT)],
    { tokens: ["\x00\x00\x03", "\x00\x00", "\xff\xff", "\x80", "\x01"], maxLength: 512 },
  ),
  codec: bytesCodec,
  budgetMs: 250,
  corpusDir: "gateway/src/probe/fuzz/corpus/h264-sps",
  check(nal: Uint8Array) {
    const rbsp = unescapeRbsp(nal);
    expectThat(rbsp.length <= nal.length, "unescaping made the NAL unit longer");
    const parsed = documentedThrow("parseSpsSize", [RangeError], () => parseSpsSize(nal));
    if (!parsed.ok) return;
    const s = parsed.value;
    expectThat(
      Number.isSafeInteger(s.codedWidth) && Number.isSafeInteger(s.codedHeight),
      `coded size ${s.codedWidth}x${s.codedHeight} is not whole numbers`,
    );
    expectThat(
      s.codedWidth % 16 === 0 && s.codedHeight % 16 === 0,
      "coded size not in macroblocks",
    );
    expectThat(s.width > 0 && s.height > 0, `picture ${s.width}x${s.height}`);
    expectThat(
      s.cropLeft >= 0 &&
        s.cropTop >= 0 &&
        s.cropLeft + s.width <= s.codedWidth &&
        s.cropTop + s.height <= s.codedHeight,
      `crop ${s.cropLeft},${s.cropTop} ${s.width}x${s.height} outside ${s.codedWidth}x${s.codedHeight}`,
    );
  },
});
