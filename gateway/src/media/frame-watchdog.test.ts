import { describe, expect, it } from "vitest";
import { FrameWatchdog } from "./frame-watchdog.js";

/** A 30 fps source watched for `frames` frames, one every 33 ms, counters in step. */
function running(frames = 30): { dog: FrameWatchdog; t: number; n: number } {
  const dog = new FrameWatchdog({ fps: 30, intervals: 3, startGraceMs: 2000 });
  dog.restarted(0);
  let t = 0;
  for (let n = 1; n <= frames; n++) {
    t = n * 33;
    dog.frame(t, { captured: n + 1, encoded: n });
  }
  return { dog, t, n: frames };
}

describe("FrameWatchdog", () => {
  it("is content while frames flow", () => {
    const { dog, t, n } = running();
    expect(dog.check(t + 50, { captured: n + 2, encoded: n }).kind).toBe("ok");
  });

  it("calls the encoder stalled when frames go in and none come out for three intervals", () => {
    const { dog, t, n } = running();
    const verdict = dog.check(t + 101, { captured: n + 4, encoded: n });
    expect(verdict).toMatchObject({ kind: "encoder-stalled", captured: 3 });
  });

  it("calls the encoder stalled when even one frame went in and did not come out", () => {
    const { dog, t, n } = running();
    expect(dog.check(t + 101, { captured: n + 2, encoded: n }).kind).toBe("encoder-stalled");
  });

  it("takes the longer gaps of a frame rate the gateway lowered for what they are, and the source's again after", () => {
    const { dog, t, n } = running();
    // 5 fps: one frame in six reaches the encoder (the addon's counters
    // leave the others out of `captured`), 200 ms apart.
    dog.setFrameRate(5);
    expect(dog.check(t + 200, { captured: n + 1, encoded: n }).kind).toBe("ok");
    let at = t;
    for (let k = 1; k <= 10; k++) {
      at = t + k * 200;
      dog.frame(at, { captured: n + k + 1, encoded: n + k });
    }
    expect(dog.check(at + 199, { captured: n + 12, encoded: n + 10 }).kind).toBe("ok");
    // A stall is still one: nothing out for three of its intervals.
    expect(dog.check(at + 700, { captured: n + 12, encoded: n + 10 }).kind).toBe("encoder-stalled");
    // Back at the camera's 30 fps: never a limit under its own three intervals.
    dog.setFrameRate(60);
    expect(dog.limitMs()).toBeGreaterThanOrEqual(100);
  });

  it("calls a source silent, not its encoder stalled, when nothing is captured either", () => {
    const { dog, t, n } = running();
    const verdict = dog.check(t + 500, { captured: n + 1, encoded: n });
    expect(verdict).toEqual({ kind: "silent", silentMs: 500 });
  });

  it("takes frames encoded but still queued for JavaScript as progress (a busy event loop)", () => {
    const { dog, t, n } = running();
    expect(dog.check(t + 200, { captured: n + 7, encoded: n + 6 }).kind).toBe("ok");
  });

  it("waits longer for an encoder that is slow than for one that is quick", () => {
    const slow = new FrameWatchdog({ fps: 30 });
    slow.restarted(0);
    for (let n = 1; n <= 30; n++)
      slow.frame(n * 33, { captured: n + 6, encoded: n, encodeTimeUs: 200_000 });
    const t = 30 * 33;
    expect(slow.check(t + 150, { captured: 39, encoded: 30 }).kind).toBe("ok");
    expect(slow.check(t + 301, { captured: 40, encoded: 30 }).kind).toBe("encoder-stalled");
  });

  it("gives a source that slowed down (a dark UVC camera at 7.5 fps) room by its own rate", () => {
    const dog = new FrameWatchdog({ fps: 30 });
    dog.restarted(0);
    for (let n = 1; n <= 30; n++) dog.frame(n * 133);
    expect(dog.check(30 * 133 + 200).kind).toBe("ok");
  });

  it("gives the first frame after a start the grace, then as long as twice the last first frame", () => {
    const dog = new FrameWatchdog({ fps: 30, startGraceMs: 2000 });
    dog.restarted(0);
    expect(dog.check(1500, { captured: 20, encoded: 0 }).kind).toBe("ok");
    dog.frame(300, { captured: 9, encoded: 1 });
    dog.restarted(10_000);
    // The first start's first frame took 300 ms: a restart gets 600 ms.
    expect(dog.check(10_500, { captured: 10, encoded: 0 }).kind).toBe("ok");
    expect(dog.check(10_601, { captured: 12, encoded: 0 }).kind).toBe("encoder-stalled");
  });
});

describe("FrameWatchdog on a source whose frames come in bursts", () => {
  it("waits past the longest pause seen lately before calling the encoder stalled", () => {
    const dog = new FrameWatchdog({ fps: 30 });
    dog.restarted(0);
    let t = 0;
    let n = 0;
    // Mostly every 33 ms, with a 300 ms pause now and then (a starved encoder thread).
    for (let i = 1; i <= 60; i++) {
      t += i % 20 === 0 ? 300 : 33;
      n++;
      dog.frame(t, { captured: n + 1, encoded: n });
    }
    expect(dog.check(t + 400, { captured: n + 12, encoded: n }).kind).toBe("ok");
    expect(dog.check(t + 451, { captured: n + 14, encoded: n }).kind).toBe("encoder-stalled");
  });
});
