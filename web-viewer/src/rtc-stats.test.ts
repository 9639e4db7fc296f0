import { describe, expect, it } from "vitest";
import { sampleFromStats, summarizeStats } from "./rtc-stats.js";

// Two getStats() reports one second apart, trimmed to the entries we read;
// field names and shapes as Chromium reports them (W3C webrtc-stats), values
// chosen to make the arithmetic checkable by hand.
function report(bytes: number, frames: number, jbDelay: number, jbCount: number) {
  return [
    { id: "T01", type: "transport", selectedCandidatePairId: "CP1" },
    {
      id: "CP0",
      type: "candidate-pair",
      nominated: false,
      state: "failed",
      currentRoundTripTime: 9,
    },
    {
      id: "CP1",
      type: "candidate-pair",
      nominated: true,
      state: "succeeded",
      currentRoundTripTime: 0.002,
    },
    { id: "CIT01_102", type: "codec", mimeType: "video/H264", payloadType: 102 },
    {
      id: "IT01V",
      type: "inbound-rtp",
      kind: "video",
      codecId: "CIT01_102",
      bytesReceived: bytes,
      packetsReceived: 1000,
      packetsLost: 3,
      framesDecoded: frames,
      framesDropped: 1,
      frameWidth: 1280,
      frameHeight: 720,
      framesPerSecond: 30,
      freezeCount: 2,
      jitterBufferDelay: jbDelay,
      jitterBufferEmittedCount: jbCount,
      nackCount: 4,
      pliCount: 1,
    },
  ];
}

describe("summarizeStats", () => {
  const a = sampleFromStats(report(1_000_000, 300, 3.0, 300), 10_000);
  const b = sampleFromStats(report(1_250_000, 330, 3.3, 330), 11_000);

  it("reads size, fps, losses, freezes and codec from inbound-rtp", () => {
    const s = summarizeStats(undefined, a);
    expect(s).toMatchObject({
      width: 1280,
      height: 720,
      fps: 30,
      packetsLost: 3,
      freezes: 2,
      codec: "H264",
      nacks: 4,
      plis: 1,
    });
    expect(s.kbps).toBeUndefined();
  });

  it("takes RTT from the transport's selected candidate pair, not another one", () => {
    expect(summarizeStats(undefined, a).rttMs).toBeCloseTo(2);
  });

  it("computes bitrate and jitter-buffer delay over the interval", () => {
    const s = summarizeStats(a, b);
    expect(s.kbps).toBeCloseTo(2000); // 250 000 bytes in 1 s
    expect(s.jitterBufferMs).toBeCloseTo(10); // 0.3 s over 30 frames
  });

  it("gives no rate across a new peer connection (counters went back)", () => {
    expect(
      summarizeStats(b, sampleFromStats(report(5_000, 3, 0.01, 3), 12_000)).kbps,
    ).toBeUndefined();
  });

  it("falls back to the nominated pair and framesDecoded deltas when fields are missing", () => {
    const strip = (r: ReturnType<typeof report>) =>
      r
        .filter((e) => e.type !== "transport")
        .map((e) => (e.type === "inbound-rtp" ? { ...e, framesPerSecond: undefined } : e));
    const s = summarizeStats(
      sampleFromStats(strip(report(0, 0, 0, 0)), 0),
      sampleFromStats(strip(report(1, 15, 0, 0)), 500),
    );
    expect(s.fps).toBeCloseTo(30);
    expect(s.rttMs).toBeCloseTo(2);
  });

  it("reports zeros, not errors, before any video arrived", () => {
    const s = summarizeStats(undefined, sampleFromStats([], 0));
    expect(s.framesDecoded).toBe(0);
    expect(s.width).toBeUndefined();
  });
});
