/**
 * What gives when the bitrate alone cannot fit a stream whose encoder
 * follows its viewers (bitrate-policy.ts): the capture size, the frame
 * rate, or both (libwebrtc's DegradationPreference; camgw's `degradation`
 * key). libwebrtc judges by the encoder's QP; camgw has none from the Pi's
 * encoder, so it judges by bitrate, in bits per pixel per frame.
 *
 * The configured size and frame rate are meant to get the configured
 * bitrate, up to ENOUGH_BPPF bits per pixel per frame; every step down is
 * taken to need the same bits per pixel per frame (its "full rate" is that
 * bitrate times its share of pixels x frames). The policy moves down once the encoder's target has
 * stayed under `downBelow` of the current step's full rate for the hold,
 * to the largest step the target has fed all along (not its latest dip);
 * it moves up one step at a time
 * once the target has stayed above `upAbove` (a size step) or
 * `frameRateUpAbove` (a frame-rate step) of the next step's full rate for
 * the hold (hysteresis: a step up must be fed with room to spare).
 *
 * A step that changes the size costs every viewer a key frame (the camera
 * streams on and its frames are scaled, but the encoder starts again at
 * the new size, docs/native.md "Size steps"), and a key frame under a cap
 * is a burst: its holds are long. A step that changes only the frame
 * rate costs nothing visible but the rate (frames are dropped before the
 * encoder, docs/native.md): its holds are short. In `balanced` the frame
 * rate goes first: a move down never changes the size before the resize
 * hold, though the frame-rate steps at the current size are taken after
 * theirs.
 */

import type { FrameSize } from "../../media/supervised-source.js";
import { frameRateLadder } from "./frame-rate-policy.js";
import { resolutionLadder } from "./resolution-policy.js";

/**
 * Bits per pixel per frame past which more bits buy little: H.264 gives a
 * clean picture of a camera's usual scene at about 0.1 (the "Kush gauge"
 * rule of thumb puts low-motion video at 0.07, medium at 0.14). A
 * configured bitrate above it (640x480@30 at 2.5 Mbit/s is 0.27) does not
 * make each step need more: without this cap, that stream fell to 5 fps
 * under a 400 kbit/s cap where 15 fps gets 0.05 a frame.
 */
export const ENOUGH_BPPF = 0.1;

/** The `degradation` config key (docs/config.md). */
export type DegradationMode = "maintain-framerate" | "maintain-resolution" | "balanced";

/** One step of the ladder: a capture size and the frames a second encoded from it. */
export interface StreamQuality {
  width: number;
  height: number;
  fps: number;
}

/** What the source can change without giving up: its size, its frame rate. */
export interface DegradationAbilities {
  resize: boolean;
  frameRate: boolean;
}

export interface DegradationPolicyOptions {
  mode: DegradationMode;
  /** The configured size and the camera's frame rate: what the configured bitrate is meant for. */
  base: StreamQuality;
  /** The configured bitrate, kbit/s. */
  maxKbps: number;
  can: DegradationAbilities;
  /** Move down under this share of the current step's full rate (default 0.5). */
  downBelow?: number;
  /** Move up over this share of the next step's full rate, for a size step (default 0.9). */
  upAbove?: number;
  /**
   * The same for a step that changes only the frame rate (default 0.75): it
   * costs nothing visible, so its band can be narrower, still 1.5x between
   * a step's way up and its way back down. With 0.9 the lab's 300 kbit/s
   * cap held 5 fps, its target (~270) short of 10 fps's 276.
   */
  frameRateUpAbove?: number;
  /** Holds for a step that changes the size (defaults 4000 ms down, 10000 ms up). */
  resizeHoldDownMs?: number;
  resizeHoldUpMs?: number;
  /** Holds for a step that changes only the frame rate (defaults 2000 ms down, 5000 ms up). */
  frameRateHoldDownMs?: number;
  frameRateHoldUpMs?: number;
}

/**
 * The steps a stream of `base` may take, full quality first. `balanced`
 * lowers the frame rate to half first, then the size at that rate (where
 * libwebrtc's balanced settings land for VGA-class streams: ~15 fps before
 * the pixels go).
 */
export function degradationLadder(
  mode: DegradationMode,
  base: StreamQuality,
  can: DegradationAbilities,
): StreamQuality[] {
  const size = { width: base.width, height: base.height };
  const sizes = can.resize ? resolutionLadder(size) : [size];
  const rates = can.frameRate ? frameRateLadder(base.fps) : [base.fps];
  switch (mode) {
    case "maintain-framerate":
      return sizes.map((s) => ({ ...s, fps: base.fps }));
    case "maintain-resolution":
      return rates.map((fps) => ({ ...size, fps }));
    case "balanced": {
      const first = rates.filter((fps) => fps >= base.fps / 2);
      const floor = first[first.length - 1] ?? base.fps;
      return [
        ...first.map((fps) => ({ ...size, fps })),
        ...sizes.slice(1).map((s) => ({ ...s, fps: floor })),
      ];
    }
  }
}

function sameSize(a: FrameSize, b: FrameSize): boolean {
  return a.width === b.width && a.height === b.height;
}

export class DegradationPolicy {
  private ladder: StreamQuality[];
  private base: StreamQuality;
  private can: DegradationAbilities;
  private step = 0;
  private lowSince: number | null = null;
  /** The least step down the target has called for since lowSince (it stayed under that one's need). */
  private lowTo = 0;
  private highSince: number | null = null;
  private readonly downBelow: number;
  private readonly upAbove: number;
  private readonly frameRateUpAbove: number;

  constructor(
    private readonly options: DegradationPolicyOptions,
    private readonly apply: (to: StreamQuality, from: StreamQuality) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    const { base, maxKbps } = options;
    if (!(base.width > 0 && base.height > 0 && base.fps > 0) || !(maxKbps > 0)) {
      throw new RangeError(
        `degradation policy: ${base.width}x${base.height}@${base.fps} and ${maxKbps} kbit/s must be above 0`,
      );
    }
    this.downBelow = options.downBelow ?? 0.5;
    this.upAbove = options.upAbove ?? 0.9;
    this.frameRateUpAbove = options.frameRateUpAbove ?? 0.75;
    if (!(Math.min(this.upAbove, this.frameRateUpAbove) > this.downBelow)) {
      // Equal or crossed thresholds would step down and straight back up.
      throw new RangeError(
        `degradation policy: upAbove (${this.upAbove}) and frameRateUpAbove (${this.frameRateUpAbove}) must be above downBelow (${this.downBelow})`,
      );
    }
    this.base = base;
    this.can = options.can;
    this.ladder = degradationLadder(options.mode, base, this.can);
  }

  /** The step last asked for. */
  get current(): StreamQuality {
    return this.ladder[this.step] ?? this.base;
  }

  /** Whether any step below full quality exists (a fixed-size camera in maintain-framerate has none). */
  get canDegrade(): boolean {
    return this.ladder.length > 1;
  }

  /**
   * The size was changed by someone else (a viewer's control command): it
   * is the new full size, meant for the configured bitrate, at full frame
   * rate. The caller applies the frame rate (`current`) if it had stepped.
   */
  rebase(size: FrameSize): void {
    if (sameSize(size, this.current)) return;
    this.base = { ...size, fps: this.base.fps };
    this.ladder = degradationLadder(this.options.mode, this.base, this.can);
    this.step = 0;
    this.lowSince = this.highSince = null;
  }

  /**
   * The source refused a kind of step (a size the device does not have, a
   * camera whose own H.264 cannot skip frames): no more steps of that
   * kind. The step it stands at stays (the nearest left, by full rate).
   */
  withdraw(kind: keyof DegradationAbilities): void {
    if (!this.can[kind]) return;
    const at = this.current;
    this.can = { ...this.can, [kind]: false };
    this.ladder = degradationLadder(this.options.mode, this.base, this.can);
    const share = this.share(at);
    const index = this.ladder.findIndex((q) => this.share(q) <= share);
    this.step = index < 0 ? this.ladder.length - 1 : index;
    this.lowSince = this.highSince = null;
  }

  /**
   * When a hold under way ends (performance.now() ms), so the caller can
   * decide again then: an estimate resting at its ceiling sends no new
   * one to decide on. Undefined while nothing is held.
   */
  get dueAtMs(): number | undefined {
    if (this.lowSince !== null) {
      // A frame-rate step first, if one is due; else the resize.
      const rate = this.lowSince + (this.options.frameRateHoldDownMs ?? 2000);
      return rate > this.nowMs() ? rate : this.lowSince + (this.options.resizeHoldDownMs ?? 4000);
    }
    const next = this.ladder[this.step - 1];
    if (this.highSince === null || !next) return undefined;
    return (
      this.highSince +
      (sameSize(next, this.current)
        ? (this.options.frameRateHoldUpMs ?? 5000)
        : (this.options.resizeHoldUpMs ?? 10_000))
    );
  }

  /** Nobody watches: back to full quality for the next viewer. */
  reset(): void {
    this.lowSince = this.highSince = null;
    if (this.step !== 0) this.moveTo(0);
  }

  /** The encoder's target changed or is unchanged at `kbps`; call on each new estimate. */
  update(kbps: number): void {
    const now = this.nowMs();
    const fed = this.largestFed(kbps);
    if (fed > this.step) {
      this.highSince = null;
      if (this.lowSince === null) {
        this.lowSince = now;
        this.lowTo = fed;
      }
      // As far down as the target has stayed all along, not as low as its
      // latest dip (a draining estimate halves for a second or so).
      this.lowTo = Math.min(this.lowTo, fed);
      const down = this.lowTo;
      const held = now - this.lowSince;
      const here = this.current;
      // The frame-rate steps at this size first, on their own (shorter) hold.
      let sameSizeDown = this.step;
      while (sameSizeDown < down && this.isSameSize(sameSizeDown + 1, here)) sameSizeDown++;
      const resizeHold = this.options.resizeHoldDownMs ?? 4000;
      const rateHold = this.options.frameRateHoldDownMs ?? 2000;
      if (sameSizeDown < down && held >= resizeHold) this.moved(down, kbps);
      else if (sameSizeDown > this.step && held >= rateHold) this.moved(sameSizeDown, kbps);
      return;
    }
    this.lowSince = null;
    const next = this.ladder[this.step - 1];
    const rateOnly = next !== undefined && sameSize(next, this.current);
    const upAbove = rateOnly ? this.frameRateUpAbove : this.upAbove;
    if (next && kbps >= upAbove * this.fullRate(next)) {
      this.highSince ??= now;
      const hold = rateOnly
        ? (this.options.frameRateHoldUpMs ?? 5000)
        : (this.options.resizeHoldUpMs ?? 10_000);
      if (now - this.highSince >= hold) this.moved(this.step - 1, kbps);
      return;
    }
    this.highSince = null;
  }

  private isSameSize(step: number, q: StreamQuality): boolean {
    const s = this.ladder[step];
    return s !== undefined && sameSize(s, q);
  }

  /** A step's share of the full step's pixels x frames. */
  private share(q: StreamQuality): number {
    const b = this.base;
    return (q.width * q.height * q.fps) / (b.width * b.height * b.fps);
  }

  /** What the full step needs at the step's share of pixels x frames, kbit/s. */
  private fullRate(q: StreamQuality): number {
    const b = this.base;
    const enoughKbps = (ENOUGH_BPPF * b.width * b.height * b.fps) / 1000;
    return Math.min(this.options.maxKbps, enoughKbps) * this.share(q);
  }

  /** The largest step (lowest index) at or below the current one that `kbps` feeds. */
  private largestFed(kbps: number): number {
    let step = this.step;
    while (step < this.ladder.length - 1) {
      const q = this.ladder[step];
      if (!q || kbps >= this.downBelow * this.fullRate(q)) break;
      step++;
    }
    return step;
  }

  /**
   * Moves, then starts the next hold at once: the target that fed this
   * step may feed the next (an estimate resting at its ceiling would
   * otherwise start it only with its next change).
   */
  private moved(step: number, kbps: number): void {
    this.moveTo(step);
    this.update(kbps);
  }

  private moveTo(step: number): void {
    const from = this.current;
    this.step = step;
    this.lowSince = this.highSince = null;
    this.apply(this.current, from);
  }
}
