/**
 * Fuzz target "h264-rtp": an access unit as a source hands it over (camera,
 * encoder or a pipe's Annex-B), through splitAnnexB, the stream's
 * profile-level-id (h264-profile.ts), the RFC 6184 payloader at a random
 * payload limit, and back through werift's depacketizer (the one camgw's
 * probe and headless viewer use). Properties: only TypeError (not Annex-B)
 * is thrown; NAL units come out non-empty, without a start code inside or
 * a forbidden bit; no payload exceeds the limit; the depacketized NAL units
 * are the access unit's, less access unit delimiters and filler data.
 */
import fc from "fast-check";
import { NalType, nalType, splitAnnexB } from "../../rtp/annexb.js";
import { H264Payloader, MIN_MAX_PAYLOAD_SIZE, joinPayload } from "../../rtp/h264-payloader.js";
import { defineTarget, documentedThrow, expectThat, type Notes } from "../../fuzz/fuzz-target.js";
import { BASELINE_ACCESS_UNITS, HIGH_ACCESS_UNIT } from "../../fuzz/h264-samples.js";
import { mutatedBytes } from "../../fuzz/mutate.js";
import { profileLevelIdFromAccessUnit } from "../h264-profile.js";
import { depacketizeH264 } from "../werift/h264-depacketizer.js";

type Input = { au: string; mtu: number };

const TOKENS = [
  "\x00\x00\x01",
  "\x00\x00\x00\x01",
  "\x00\x00\x03",
  "\x09\xf0",
  "\x67",
  "\x68",
  "\x65",
  "\x0c\xff",
  "\x00",
];

/** NAL unit types RFC 6184 reserves for its own packets (and 0, unspecified): no receiver takes them as NAL units. */
const packetTypeOnWire = (type: number): boolean => type === 0 || type >= NalType.stapA;

export const h264RtpTarget = defineTarget({
  name: "h264-rtp",
  about:
    "access units through splitAnnexB, profile-level-id, the RFC 6184 payloader and werift's depacketizer",
  arbitrary: fc
    .tuple(
      mutatedBytes([...BASELINE_ACCESS_UNITS, HIGH_ACCESS_UNIT], {
        tokens: TOKENS,
        maxLength: 8192,
      }),
      fc.oneof(
        fc.integer({ min: MIN_MAX_PAYLOAD_SIZE, max: 40 }),
        fc.constantFrom(1200, 300, 1500, 65_507),
      ),
    )
    .map(([au, mtu]) => ({ au: Buffer.from(au).toString("hex"), mtu })),
  codec: {
    encode: (input: Input) => input,
    decode: (value: unknown) => value as Input,
  },
  budgetMs: 1000,
  corpusDir: "gateway/src/webrtc/fuzz/corpus/h264-rtp",
  check({ au: hex, mtu }: Input, notes: Notes) {
    const au = Buffer.from(hex, "hex");
    const profile = documentedThrow("profileLevelIdFromAccessUnit", [TypeError], () =>
      profileLevelIdFromAccessUnit(au),
    );
    if (profile.ok && profile.value !== undefined) {
      expectThat(/^[0-9a-f]{6}$/.test(profile.value), `profile-level-id "${profile.value}"`);
    }
    const split = documentedThrow("splitAnnexB", [TypeError], () => splitAnnexB(au));
    if (!split.ok) {
      notes.add("access units refused (TypeError: not Annex-B)");
      return;
    }
    const nals = split.value;
    for (const nal of nals) {
      expectThat(nal.length > 0, "an empty NAL unit");
      expectThat(((nal[0] ?? 0) & 0x80) === 0, "a NAL unit with forbidden_zero_bit set");
      expectThat(nal.indexOf(Buffer.from([0, 0, 1])) < 0, "a start code inside a NAL unit");
      expectThat(
        nal[nal.length - 1] !== 0,
        "a NAL unit ending in a zero byte (trailing_zero_8bits)",
      );
    }
    const payloads = new H264Payloader({ maxPayloadSize: mtu }).payload(au).map(joinPayload);
    for (const p of payloads)
      expectThat(p.length <= mtu, `a ${p.length}-byte payload over the limit ${mtu}`);

    if (nals.some((n) => packetTypeOnWire(nalType(n)))) {
      // Such a NAL unit would be read as a STAP/FU header by every receiver:
      // there is no round trip to hold the payloader to.
      notes.add("access units with NAL unit type 0 or 24-31 (no round trip)");
      return;
    }
    const chunks: Buffer[] = [];
    let fragment: Buffer | undefined;
    for (const p of payloads) {
      const out = depacketizeH264(p, fragment);
      fragment = out.fragment;
      if (out.annexB) chunks.push(out.annexB);
    }
    expectThat(fragment === undefined, "a FU-A left unfinished at the end of the access unit");
    const back = chunks.length === 0 ? [] : splitAnnexB(Buffer.concat(chunks));
    const sent = nals.filter((n) => nalType(n) !== NalType.aud && nalType(n) !== NalType.filler);
    expectThat(
      back.length === sent.length && back.every((n, i) => n.equals(sent[i] ?? Buffer.alloc(0))),
      `${sent.length} NAL units sent, ${back.length} came back (or differ)`,
    );
  },
});
