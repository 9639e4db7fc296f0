import type { KeyFrameRequestKind } from "./video-sender.js";

/**
 * How long after the held request went on the viewer is still taken to
 * wait for its IDR (frames skipped): an encoder that never answers must not
 * leave the viewer with nothing (the requester asks again after 500 ms,
 * keyframe-requester.ts).
 */
export const KEY_FRAME_WAIT_MS = 1000;

/**
 * One viewer's key frame requests while its bandwidth estimator drains the
 * path's queue after a saturated cut (congestion/bandwidth-estimator.ts,
 * `draining`): an IDR sent into that queue is dropped with the rest. In the
 * network lab's cap-300-mid and 4M-800k-4M the onset's first IDR (asked by
 * a PLI or a NACK the repair budget could not cover) was lost that way, and
 * the viewer's later PLIs were merged into it as "on its way"
 * (keyframe-requester.ts) for up to 0.9 s. So a request that comes while
 * draining is held, and passed on once when the drain ends, as "drained"
 * (an IDR sent before that is not waited for): the IDR then meets an empty
 * queue, made at the new rate. A joining viewer's request is never held
 * (it has no picture at all yet).
 *
 * Until that key frame goes out the viewer cannot decode the frames before
 * it (they reference the picture it lost), so the sender skips them
 * (`viewerWaiting`): the bottleneck's queue then drains at the link's full
 * rate instead of what is left of it beside the stream.
 *
 * A drain itself counts as a held request from the moment it starts: the
 * estimator starts one when the queue overflows or is about to (its growth
 * at twice the link's rate, seen before the loss is), so the viewer is
 * losing packets or will, and its PLI comes only once the queue's content
 * has reached it (~0.4 s in the lab). Frames sent meanwhile would go into
 * the full queue and be dropped or be of no use; skipping them from the
 * start lets the queue drain that much sooner, and the IDR goes out when
 * it has.
 */
export class KeyFrameHold {
  private held = false;
  private waiting = false;
  private releasedAtMs: number | undefined;
  private draining = false;
  /** Requests held (a viewer repeats its PLI while it waits: all but the first are merged). */
  heldCount = 0;

  /**
   * Whether the viewer asked for a key frame while one was held, and none
   * has gone out since (for at most KEY_FRAME_WAIT_MS after the request went
   * on): frames before it are of no use to it.
   */
  viewerWaiting(nowMs: number): boolean {
    if (this.waiting && this.releasedAtMs !== undefined) {
      if (nowMs - this.releasedAtMs > KEY_FRAME_WAIT_MS) this.waiting = false;
    }
    return this.waiting;
  }

  /** A key frame goes out to the viewer. */
  keyFrameSent(): void {
    this.waiting = false;
  }

  /** Whether a request is waiting for the drain to end. */
  get holding(): boolean {
    return this.held;
  }

  /** A request for this viewer: returns it to pass on now, or undefined when it is held. */
  request(kind: KeyFrameRequestKind, draining: boolean): KeyFrameRequestKind | undefined {
    if (!draining || kind === "join") return kind;
    this.heldCount++;
    this.held = true;
    this.waiting = true;
    this.releasedAtMs = undefined;
    return undefined;
  }

  /**
   * The estimate changed: once the drain is over, returns "drained" when a
   * request was held, to pass on now (an IDR sent before is not waited for).
   */
  estimate(draining: boolean, nowMs: number): KeyFrameRequestKind | undefined {
    const started = draining && !this.draining;
    this.draining = draining;
    if (started) {
      this.held = true;
      this.waiting = true;
      this.releasedAtMs = undefined;
    }
    if (draining || !this.held) return undefined;
    this.held = false;
    this.releasedAtMs = nowMs;
    return "drained";
  }
}
