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

/**
 * Counts freezes as WebRTC's stats do (w3c webrtc-stats, freezeCount): an
 * inter-frame delay longer than max(3 x the mean delay, mean + 150 ms).
 */
export function countFreezes(frameTimesMs: readonly number[]): number {
  let freezes = 0;
  let sum = 0;
  for (let i = 1; i < frameTimesMs.length; i++) {
    const delay = (frameTimesMs[i] ?? 0) - (frameTimesMs[i - 1] ?? 0);
    const n = i - 1;
    if (n >= 5) {
      const mean = sum / n;
      if (delay > Math.max(3 * mean, mean + 150)) freezes++;
    }
    sum += delay;
  }
  return freezes;
}

/** The longest time between two consecutive frames (0 with fewer than two). */
export function longestGap(frameTimesMs: readonly number[]): number {
  let longest = 0;
  for (let i = 1; i < frameTimesMs.length; i++) {
    longest = Math.max(longest, (frameTimesMs[i] ?? 0) - (frameTimesMs[i - 1] ?? 0));
  }
  return longest;
}
