import { describe, expect, it } from "vitest";
import { formatFigures } from "./stats-format.js";

describe("formatFigures", () => {
  it("shows dashes and 'no stamp' before anything is known", () => {
    const rows = Object.fromEntries(
      formatFigures({
        video: undefined,
        ttffMs: undefined,
        latency: { count: 0, last: null, p50: null, p95: null, min: null, max: null },
        frames: 0,
        freezes: 0,
      }),
    );
    expect(rows.Resolution).toBe("–");
    expect(rows["Glass-to-glass"]).toBe("no stamp");
  });

  it("formats a playing call", () => {
    const rows = Object.fromEntries(
      formatFigures({
        video: {
          width: 1280,
          height: 720,
          fps: 29.96,
          kbps: 2450,
          rttMs: 1.4,
          packetsLost: 2,
          packetsReceived: 998,
          framesDecoded: 300,
          framesDropped: 0,
          freezes: undefined,
          jitterBufferMs: 12.2,
          nacks: 0,
          plis: 0,
          codec: "H264",
        },
        ttffMs: 183.4,
        latency: { count: 10, last: 41.6, p50: 40, p95: 55, min: 30, max: 60 },
        frames: 300,
        freezes: 1,
      }),
    );
    expect(rows).toMatchObject({
      Resolution: "1280×720",
      FPS: "30.0",
      Bitrate: "2.45 Mb/s",
      RTT: "1 ms",
      "Packets lost": "2 of 1000",
      Freezes: "1",
      "First frame": "183 ms",
      "Glass-to-glass": "42 ms (p50 40 ms, p95 55 ms)",
    });
  });
});
