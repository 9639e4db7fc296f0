/**
 * The sizes a stream may step down through when the bitrate alone cannot
 * fit (degradation-policy.ts: `maintain-framerate`, and `balanced` after
 * its frame-rate steps): fewer pixels look better than a starved encoder's
 * blocks at full size. A smaller size is taken to need the same bits per
 * pixel, so a size's share of the pixels is its share of the bitrate.
 * Each step costs a key frame at the new size (`H264Source.resize`: a
 * camera's frames are scaled to it and the encoder set up again, the
 * camera streaming on; docs/native.md "Size steps"), so there are few of
 * them, far apart.
 */

import type { FrameSize } from "../../media/supervised-source.js";

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
