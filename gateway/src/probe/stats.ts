/** Small statistics helpers for the probe's and the benches' reports. */

/** The p-th percentile (0-100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A freeze: a gap between two frames (or after the last one) that webrtc-stats counts. */
export interface Freeze {
  /** When the last frame before it was shown, in the frame times' clock. */
  atMs: number;
  durationMs: number;
}

/**
 * Finds freezes as WebRTC's stats do (w3c webrtc-stats, freezeCount): an
 * inter-frame delay longer than max(3 x the mean delay, mean + 150 ms).
 * Given `endMs` (when watching stopped), a stream that stopped and never
 * came back counts too, as a browser's would once the next frame is late:
 * otherwise a viewer staring at a frozen picture would count no freeze.
 */
export function findFreezes(frameTimesMs: readonly number[], endMs?: number): Freeze[] {
  const freezes: Freeze[] = [];
  let sum = 0;
  const isFreeze = (delay: number, n: number): boolean => {
    if (n < 5) return false;
    const mean = sum / n;
    return delay > Math.max(3 * mean, mean + 150);
  };
  for (let i = 1; i < frameTimesMs.length; i++) {
    const at = frameTimesMs[i - 1] ?? 0;
    const delay = (frameTimesMs[i] ?? 0) - at;
    if (isFreeze(delay, i - 1)) freezes.push({ atMs: at, durationMs: delay });
    sum += delay;
  }
  const last = frameTimesMs.at(-1);
  if (endMs !== undefined && last !== undefined && isFreeze(endMs - last, frameTimesMs.length - 1))
    freezes.push({ atMs: last, durationMs: endMs - last });
  return freezes;
}

/** The number of freezes (see findFreezes). */
export function countFreezes(frameTimesMs: readonly number[], endMs?: number): number {
  return findFreezes(frameTimesMs, endMs).length;
}

/** The longest time between two consecutive frames (0 with fewer than two). */
export function longestGap(frameTimesMs: readonly number[]): number {
  let longest = 0;
  for (let i = 1; i < frameTimesMs.length; i++) {
    longest = Math.max(longest, (frameTimesMs[i] ?? 0) - (frameTimesMs[i - 1] ?? 0));
  }
  return longest;
}
