import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KeyFrameRequester } from "./keyframe-requester.js";

describe("KeyFrameRequester", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("merges requests that arrive while the requested IDR is still on its way", () => {
    let sent = 0;
    const r = new KeyFrameRequester(
      () => sent++,
      500,
      () => Date.now(),
    );
    r.request();
    vi.advanceTimersByTime(10);
    r.request();
    r.request();
    vi.advanceTimersByTime(2000);
    expect(sent).toBe(1);
    expect(r.received).toBe(3);
  });

  it("defers a request made after the IDR went out to the end of the interval", () => {
    let sent = 0;
    const r = new KeyFrameRequester(
      () => sent++,
      500,
      () => Date.now(),
    );
    r.request();
    expect(sent).toBe(1);
    vi.advanceTimersByTime(40);
    r.keyFrameSeen();
    for (let i = 0; i < 10; i++) r.request();
    expect(sent).toBe(1);
    vi.advanceTimersByTime(459);
    expect(sent).toBe(1);
    vi.advanceTimersByTime(1);
    expect(sent).toBe(2);
    expect(r.received).toBe(11);
    expect(r.sent).toBe(2);
  });

  it("sends at once again after the interval has passed", () => {
    let sent = 0;
    const r = new KeyFrameRequester(
      () => sent++,
      500,
      () => Date.now(),
    );
    r.request();
    vi.advanceTimersByTime(600);
    r.request();
    expect(sent).toBe(2);
  });

  it("drops a deferred request when closed", () => {
    let sent = 0;
    const r = new KeyFrameRequester(
      () => sent++,
      500,
      () => Date.now(),
    );
    r.request();
    r.request();
    r.close();
    vi.advanceTimersByTime(1000);
    r.request();
    expect(sent).toBe(1);
  });

  it("lets a joining viewer's request skip the rate limit, but not a pending IDR", () => {
    let sent = 0;
    const r = new KeyFrameRequester(
      () => sent++,
      500,
      () => Date.now(),
    );
    r.request();
    r.request(true); // the IDR asked for a moment ago serves the new viewer
    expect(sent).toBe(1);
    vi.advanceTimersByTime(40);
    r.keyFrameSeen();
    r.request(); // a PLI: deferred
    r.request(true); // a join: at once, and it serves the deferred PLI too
    expect(sent).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(sent).toBe(2);
  });
});
