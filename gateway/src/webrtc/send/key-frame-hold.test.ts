import { describe, expect, it } from "vitest";
import { KEY_FRAME_WAIT_MS, KeyFrameHold } from "./key-frame-hold.js";

describe("KeyFrameHold", () => {
  it("passes requests on while the path's queue is not draining", () => {
    const hold = new KeyFrameHold();
    expect(hold.request("pli", false)).toBe("pli");
    expect(hold.request("repair", false)).toBe("repair");
    expect(hold.holding).toBe(false);
    expect(hold.estimate(false, 0)).toBeUndefined();
    expect(hold.viewerWaiting(0)).toBe(false);
  });

  it("holds requests while draining and passes one on when the drain ends, as not served by an earlier IDR", () => {
    const hold = new KeyFrameHold();
    expect(hold.request("repair", true)).toBeUndefined();
    // The viewer repeats its PLI every ~200 ms while it waits: one IDR serves them all.
    expect(hold.request("pli", true)).toBeUndefined();
    expect(hold.request("pli", true)).toBeUndefined();
    expect(hold.holding).toBe(true);
    expect(hold.heldCount).toBe(3);
    expect(hold.estimate(true, 100)).toBeUndefined();
    expect(hold.estimate(false, 800)).toBe("drained");
    expect(hold.holding).toBe(false);
    expect(hold.estimate(false, 900)).toBeUndefined();
  });

  it("says the viewer waits for a key frame from the first held request until one goes out", () => {
    const hold = new KeyFrameHold();
    expect(hold.viewerWaiting(0)).toBe(false);
    hold.request("pli", true);
    expect(hold.viewerWaiting(500)).toBe(true);
    // The drain ends; the request goes on, and the viewer still waits until the IDR leaves.
    expect(hold.estimate(false, 800)).toBe("drained");
    expect(hold.viewerWaiting(900)).toBe(true);
    hold.keyFrameSent();
    expect(hold.viewerWaiting(901)).toBe(false);
    // A request passed on at once (no drain) makes nobody skip frames.
    hold.request("pli", false);
    expect(hold.viewerWaiting(1000)).toBe(false);
  });

  it("stops taking the viewer as waiting when no key frame came within a while of the request going on", () => {
    const hold = new KeyFrameHold();
    hold.request("fir", true);
    hold.estimate(false, 1000);
    expect(hold.viewerWaiting(1000 + KEY_FRAME_WAIT_MS)).toBe(true);
    expect(hold.viewerWaiting(1001 + KEY_FRAME_WAIT_MS)).toBe(false);
  });

  it("takes a drain's start as a held request: frames are skipped from then, and a key frame asked when it ends", () => {
    // The estimator starts a drain on the queue's growth, before the viewer
    // has seen any loss: its PLI would come only once the queue's content
    // had crossed (~0.4 s in the network lab), the frames meanwhile lost in
    // the full queue.
    const hold = new KeyFrameHold();
    expect(hold.estimate(false, 0)).toBeUndefined();
    expect(hold.estimate(true, 100)).toBeUndefined();
    expect(hold.viewerWaiting(150)).toBe(true);
    expect(hold.holding).toBe(true);
    // The viewer's own PLI, once it sees the loss, is merged into it.
    expect(hold.request("pli", true)).toBeUndefined();
    expect(hold.estimate(true, 400)).toBeUndefined();
    expect(hold.estimate(false, 600)).toBe("drained");
    hold.keyFrameSent();
    expect(hold.viewerWaiting(650)).toBe(false);
    // The drain is over: the next estimate starts nothing.
    expect(hold.estimate(false, 700)).toBeUndefined();
    expect(hold.viewerWaiting(700)).toBe(false);
  });

  it("never holds a joining viewer's request: it has no picture yet", () => {
    const hold = new KeyFrameHold();
    expect(hold.request("join", true)).toBe("join");
    expect(hold.holding).toBe(false);
    expect(hold.viewerWaiting(0)).toBe(false);
  });
});
