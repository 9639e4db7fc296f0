/**
 * The frame rates a stream may step down through when the bitrate alone
 * cannot fit (degradation-policy.ts: `maintain-resolution`, and `balanced`
 * down to half): at a very low bitrate, fewer frames with the bits of
 * several each look better than a full frame rate of coarse blocks, and
 * unlike a size step it costs no restart (frames are dropped before the
 * encoder, whose rate control is told; docs/native.md).
 *
 * - **Need.** A lower rate is taken to need the same bits per pixel per
 *   frame, so a rate's share of the frames is its share of the bitrate
 *   (15 of 30 fps: half). P-frames further apart differ more, so a frame
 *   at a lower rate costs somewhat more than this says; the policy's wide
 *   thresholds (down under half of the need, up over 0.9 of the next
 *   step's) leave room for it.
 * - **Ladder.** 1, 2/3, 1/2, 1/3 and 1/6 of the camera's rate (30 fps: 30,
 *   20, 15, 10, 5): each keeps a whole pattern of camera frames (2 of 3,
 *   1 of 2, 1 of 3, 1 of 6), so the frames kept are evenly spaced; a share
 *   like 4/5 would judder. Each step takes a third to a half of the frames
 *   away, as libwebrtc's own frame-rate steps do (2/3 of the last).
 * - **Floor: 5 fps.** Below it motion stops reading as motion (a person
 *   walking becomes a slide show), and a key frame asked for waits for a
 *   frame at most 1/fps away; libwebrtc's balanced settings keep 7 fps even
 *   at 320x240.
 */

/** Shares of the camera's frame rate, largest first. */
const SHARES = [1, 2 / 3, 1 / 2, 1 / 3, 1 / 6];
/** No step below this, frames a second. */
export const MIN_FPS = 5;

/** The frame rates a camera at `fps` may step through, `fps` itself first. */
export function frameRateLadder(fps: number): number[] {
  const out: number[] = [fps];
  for (const share of SHARES.slice(1)) {
    const rate = Math.round(fps * share * 1000) / 1000;
    if (rate < MIN_FPS) break;
    out.push(rate);
  }
  return out;
}
