import { describe, expect, it } from "vitest";
import { fmtpParameters, preferredCodecs, type CodecCapability } from "./codecs.js";

// RTCRtpReceiver.getCapabilities("video").codecs as Debian's Chromium 156
// reports them (recorded from the e2e browser), VP8/VP9/AV1 added as a
// browser with everything would list them.
const chromium: CodecCapability[] = [
  { clockRate: 90000, mimeType: "video/VP8" },
  { clockRate: 90000, mimeType: "video/rtx" },
  { clockRate: 90000, mimeType: "video/VP9", sdpFmtpLine: "profile-id=0" },
  {
    clockRate: 90000,
    mimeType: "video/H264",
    sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
  },
  {
    clockRate: 90000,
    mimeType: "video/H264",
    sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f",
  },
  {
    clockRate: 90000,
    mimeType: "video/H264",
    sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  },
  {
    clockRate: 90000,
    mimeType: "video/H264",
    sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f",
  },
  {
    clockRate: 90000,
    mimeType: "video/H264",
    sdpFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f",
  },
  { clockRate: 90000, mimeType: "video/AV1" },
  { clockRate: 90000, mimeType: "video/red" },
  { clockRate: 90000, mimeType: "video/ulpfec" },
];

describe("preferredCodecs", () => {
  it("keeps only H.264 with packetization-mode=1, constrained baseline first, then RTX", () => {
    const picked = preferredCodecs(chromium).map(
      (c) => `${c.mimeType} ${fmtpParameters(c.sdpFmtpLine).get("profile-level-id") ?? ""}`,
    );
    expect(picked).toEqual([
      "video/H264 42e01f",
      "video/H264 42001f",
      "video/H264 4d001f",
      "video/H264 f4001f",
      "video/rtx ",
    ]);
  });

  it("is empty when the browser has no H.264 mode 1 (so the page says unsupported)", () => {
    const noH264 = chromium.filter(
      (c) => !c.mimeType.includes("H264") || c.sdpFmtpLine?.includes("packetization-mode=0"),
    );
    expect(preferredCodecs(noH264)).toEqual([]);
  });
});

describe("fmtpParameters", () => {
  it("splits a=fmtp parameters, lower-casing keys", () => {
    const p = fmtpParameters("Packetization-Mode=1; profile-level-id=42E01F");
    expect(p.get("packetization-mode")).toBe("1");
    expect(p.get("profile-level-id")).toBe("42E01F");
  });
});
