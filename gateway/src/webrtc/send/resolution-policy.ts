/**
 * The capture size for a stream whose encoder follows its viewers
 * (bitrate-policy.ts): when the bitrate alone cannot fit, fewer pixels
 * look better than a starved encoder's blocks at full size (libwebrtc's
 * "maintain-framerate" degradation, which its quality scaler drives from
 * QP; camgw has no QP from the Pi's encoder, so it judges by bitrate).
 *
 * The configured size is meant to get the configured bitrate; a smaller
 * size is taken to need the same bits per pixel (its "full rate" is the
 * configured bitrate times its share of the pixels). The size steps down
 * once the encoder's target has stayed under `downBelow` of the current
 * size's full rate for `holdDownMs`, to the largest step the target can
 * feed; it steps up one step at a time once the target has stayed above
 * `upAbove` of the next size's full rate for `holdUpMs`. Each change
 * restarts the camera and encoder (a key frame, a short pause), so the
 * holds are seconds long and the two thresholds far apart (hysteresis).
 */

import type { FrameSize } from "../../media/supervised-source.js";

export interface ResolutionPolicyOptions {
  /** The configured size: what the configured bitrate is meant for. */
  base: FrameSize;
  /** The configured bitrate, kbit/s. */
  maxKbps: number;
  /** Step down under this share of the current size's full rate (default 0.5). */
  downBelow?: number;
  /** Step up over this share of the next larger size's full rate (default 0.9). */
  upAbove?: number;
  /** How long the target must stay low before a step down (default 4000 ms). */
  holdDownMs?: number;
  /** How long the target must stay high before a step up (default 10000 ms). */
  holdUpMs?: number;
}

/** Scales of the configured size, largest first (areas 1, 0.56, 0.25, 0.14). */
const SCALES = [1, 3 / 4, 1 / 2, 3 / 8];
/** No step below this (a phone screen's thumbnail is still recognisable at 320x180). */
const MIN_WIDTH = 320;
const MIN_HEIGHT = 180;

/** A multiple of 16: the H.264 macroblock, and what the Pi's ISP and encoder align to. */
function align16(n: number): number {
  return Math.max(16, Math.round(n / 16) * 16);
}

/** The sizes a stream of `base` may step through, largest (base itself) first. */
export function resolutionLadder(base: FrameSize): FrameSize[] {
  const out: FrameSize[] = [base];
  for (const s of SCALES.slice(1)) {
    const size = { width: align16(base.width * s), height: align16(base.height * s) };
    if (size.width < MIN_WIDTH || size.height < MIN_HEIGHT) break;
    const last = out[out.length - 1];
    if (last && size.width < last.width) out.push(size);
  }
  return out;
}

export class ResolutionPolicy {
  private ladder: FrameSize[];
  private step = 0;
  private lowSince: number | null = null;
  private highSince: number | null = null;
  private readonly downBelow: number;
  private readonly upAbove: number;
  private readonly holdDownMs: number;
  private readonly holdUpMs: number;

  constructor(
    private readonly options: ResolutionPolicyOptions,
    private readonly apply: (size: FrameSize) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    const { base, maxKbps } = options;
    if (!(base.width > 0 && base.height > 0) || !(maxKbps > 0)) {
      throw new RangeError(
        `resolution policy: size ${base.width}x${base.height} and ${maxKbps} kbit/s must be above 0`,
      );
    }
    this.downBelow = options.downBelow ?? 0.5;
    this.upAbove = options.upAbove ?? 0.9;
    this.holdDownMs = options.holdDownMs ?? 4000;
    this.holdUpMs = options.holdUpMs ?? 10_000;
    this.ladder = resolutionLadder(base);
  }

  /** The size last asked for. */
  get size(): FrameSize {
    return this.ladder[this.step] ?? this.options.base;
  }

  /**
   * The size was changed by someone else (a viewer's control command): it
   * is the new full size, meant for the configured bitrate.
   */
  rebase(size: FrameSize): void {
    if (size.width === this.size.width && size.height === this.size.height) return;
    this.ladder = resolutionLadder(size);
    this.step = 0;
    this.lowSince = this.highSince = null;
  }

  /** Nobody watches: back to the full size for the next viewer. */
  reset(): void {
    this.lowSince = this.highSince = null;
    if (this.step !== 0) this.moveTo(0);
  }

  /** The encoder's target changed or is unchanged at `kbps`; call on each new estimate. */
  update(kbps: number): void {
    const now = this.nowMs();
    const down = this.largestFed(kbps);
    if (down > this.step) {
      this.highSince = null;
      this.lowSince ??= now;
      if (now - this.lowSince >= this.holdDownMs) this.moveTo(down);
      return;
    }
    this.lowSince = null;
    if (this.step > 0 && kbps >= this.upAbove * this.fullRate(this.step - 1)) {
      this.highSince ??= now;
      if (now - this.highSince >= this.holdUpMs) this.moveTo(this.step - 1);
      return;
    }
    this.highSince = null;
  }

  /** The configured bitrate scaled by the step's share of the pixels, kbit/s. */
  private fullRate(step: number): number {
    const base = this.ladder[0] ?? this.options.base;
    const size = this.ladder[step] ?? base;
    return (this.options.maxKbps * size.width * size.height) / (base.width * base.height);
  }

  /** The largest step (lowest index) at or below the current one that `kbps` feeds. */
  private largestFed(kbps: number): number {
    let step = this.step;
    while (step < this.ladder.length - 1 && kbps < this.downBelow * this.fullRate(step)) step++;
    return step;
  }

  private moveTo(step: number): void {
    this.step = step;
    this.lowSince = this.highSince = null;
    this.apply(this.size);
  }
}
