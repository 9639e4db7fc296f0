import { describe, expect, it } from "vitest";
import { SignalingError } from "../errors.js";
import { chooseH264Codec, profileLevelIdFromAccessUnit } from "./h264-profile.js";
import { narrowOffer, parseOfferSdp, rtxFor } from "./offer-sdp.js";

/**
 * A Chrome-style recvonly video offer (the H.264 part as Chrome 120+ writes
 * it: several profiles, each with packetization-mode 1 and 0, plus rtx).
 */
const CHROME_LIKE = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 112",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=recvonly",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 nack",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:102 H264/90000",
  "a=rtcp-fb:102 nack",
  "a=rtcp-fb:102 nack pli",
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
  "a=rtpmap:103 rtx/90000",
  "a=fmtp:103 apt=102",
  "a=rtpmap:104 H264/90000",
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
  "a=rtpmap:105 rtx/90000",
  "a=fmtp:105 apt=104",
  "a=rtpmap:106 H264/90000",
  "a=rtcp-fb:106 nack pli",
  "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  "a=rtpmap:107 rtx/90000",
  "a=fmtp:107 apt=106",
  "a=rtpmap:112 H264/90000",
  "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f",
  "a=rtcp-fb:* transport-cc",
  "",
].join("\r\n");

const video = (sdp: string) => {
  const section = parseOfferSdp(sdp).media.find((m) => m.kind === "video");
  if (!section) throw new Error("no video section");
  return section;
};

describe("parseOfferSdp", () => {
  it("reads media sections, directions, mids and codecs with fmtp", () => {
    const offer = parseOfferSdp(CHROME_LIKE);
    expect(offer.media.length).toBe(1);
    const m = video(CHROME_LIKE);
    expect(m.mid).toBe("0");
    expect(m.direction).toBe("recvonly");
    expect(m.codecs.map((c) => c.payloadType)).toEqual([96, 97, 102, 103, 104, 105, 106, 107, 112]);
    expect(m.codecs.find((c) => c.payloadType === 106)?.parameters.get("profile-level-id")).toBe(
      "42e01f",
    );
  });

  // Found by fuzzing (docs/fuzzing.md, corpus offer-sdp/leading-zero-payload-type.json).
  it("takes only decimal payload types 0-127 from the m= line as codecs", () => {
    const odd = CHROME_LIKE.replace(
      "SAVPF 96 97 102 103 104 105 106 107 112",
      "SAVPF 096 0x61 1e2 102 128 106",
    ).replace("a=rtpmap:112 H264", "a=rtpmap:128 H264");
    expect(video(odd).codecs.map((c) => c.payloadType)).toEqual([102, 106]);
  });

  it.each([
    ["an empty string", ""],
    ["text that is not SDP", "hello world"],
    ["a missing v= line", "o=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"],
    ["a line without type=", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ngarbage\r\n"],
    ["a broken m= line", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=video nine RTP\r\n"],
  ])("answers bad-request for %s", (_name, sdp) => {
    let error: unknown;
    try {
      parseOfferSdp(sdp);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SignalingError);
    expect((error as SignalingError).code).toBe("bad-request");
  });
});

describe("chooseH264Codec", () => {
  it("prefers packetization-mode=1 with the stream's own profile", () => {
    expect(chooseH264Codec(video(CHROME_LIKE), "42e01f")?.payloadType).toBe(106);
  });

  it("takes a compatible profile when the exact one is not offered (constrained baseline in high)", () => {
    const only = CHROME_LIKE.replace(
      /a=fmtp:106 [^\r]*/,
      "a=fmtp:106 packetization-mode=0",
    ).replace(/a=fmtp:102 [^\r]*/, "a=fmtp:102 packetization-mode=0");
    expect(chooseH264Codec(video(only), "42e01f")?.payloadType).toBe(112);
  });

  it("refuses a high-profile stream to a viewer that offers only baseline", () => {
    const baselineOnly = CHROME_LIKE.replace(
      /a=fmtp:112 [^\r]*/,
      "a=fmtp:112 packetization-mode=0",
    );
    expect(chooseH264Codec(video(baselineOnly), "640028")).toBeUndefined();
  });

  it("ignores H.264 offered only with packetization-mode=0", () => {
    const mode0 = CHROME_LIKE.replace(/packetization-mode=1/g, "packetization-mode=0");
    expect(chooseH264Codec(video(mode0), "42e01f")).toBeUndefined();
  });
});

describe("narrowOffer", () => {
  it("keeps only the chosen payload type in the video section", () => {
    const offer = parseOfferSdp(CHROME_LIKE);
    const section = video(CHROME_LIKE);
    const narrowed = narrowOffer(offer, new Map([[section, [106]]]));
    expect(narrowed).toContain("m=video 9 UDP/TLS/RTP/SAVPF 106\r\n");
    expect(narrowed).toContain(
      "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    );
    expect(narrowed).toContain("a=rtcp-fb:* transport-cc");
    expect(narrowed).not.toMatch(/a=(rtpmap|fmtp|rtcp-fb):(96|97|102|103|104|105|107|112) /);
    expect(video(narrowed).codecs.map((c) => c.payloadType)).toEqual([106]);
  });

  it("keeps the chosen codec's RTX type after it, and only that one", () => {
    const offer = parseOfferSdp(CHROME_LIKE);
    const section = video(CHROME_LIKE);
    const h264 = section.codecs.find((c) => c.payloadType === 106);
    if (!h264) throw new Error("no 106");
    expect(rtxFor(section, h264)?.payloadType).toBe(107);
    const narrowed = narrowOffer(offer, new Map([[section, [106, 107]]]));
    expect(narrowed).toContain("m=video 9 UDP/TLS/RTP/SAVPF 106 107\r\n");
    expect(narrowed).toContain("a=fmtp:107 apt=106");
    expect(narrowed).not.toContain("a=fmtp:103 apt=102");
    const missing = section.codecs.find((c) => c.payloadType === 112);
    if (!missing) throw new Error("no 112");
    expect(rtxFor(section, missing)).toBeUndefined();
  });
});

describe("profileLevelIdFromAccessUnit", () => {
  it("reads profile_idc, constraint flags and level_idc from the SPS", () => {
    // SPS header bytes of a libx264 baseline 640x360 stream: 67 42 c0 1e.
    const au = Buffer.from([
      0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xd9, 0, 0, 0, 1, 0x68, 0xce, 0x38, 0x80,
    ]);
    expect(profileLevelIdFromAccessUnit(au)).toBe("42c01e");
    expect(profileLevelIdFromAccessUnit(Buffer.from([0, 0, 1, 0x41, 1]))).toBeUndefined();
  });
});
