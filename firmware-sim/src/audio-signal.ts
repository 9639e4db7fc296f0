/**
 * The virtual microphone's test signal (docs/firmware-sim.md, "Microphone"),
 * and how a receiver finds it again. Isomorphic (no Node imports), so a
 * browser test can use it on WebAudio samples as the tests do on files.
 *
 * A sample captured at CLOCK_REALTIME t has the value
 * round(16384 * sin(2π · 1000 Hz · (t − ⌊t⌋))) while t − ⌊t⌋ < 20 ms, else 0:
 * a 1 kHz burst at −6 dBFS starting with phase 0 on every whole second.
 */

export const BURST_HZ = 1000;
export const BURST_MS = 20;
export const BURST_AMPLITUDE = 16384;

/** The signal's value at a CLOCK_REALTIME instant (the writer is vdev/snd_signal.c). */
export function micSample(realtimeNs: bigint): number {
  const into = Number(((realtimeNs % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  if (into >= BURST_MS * 1e6) return 0;
  return Math.round(BURST_AMPLITUDE * Math.sin((2 * Math.PI * BURST_HZ * into) / 1e9));
}

export interface BurstOptions {
  /** Level that starts a burst; default a quarter of the burst's amplitude. */
  threshold?: number;
  /** Quiet needed before a burst, in samples; default 200 ms worth. */
  quietSamples?: number;
}

/**
 * Onsets of the bursts in a mono signal, as fractional sample indices. An
 * onset is where |x| first reaches the threshold after a quiet stretch,
 * moved back by the time a phase-0 sine takes to get there (asin of the
 * threshold over the amplitude), so a clean signal gives the true start.
 * Works on codec output too (Opus keeps the onset within a millisecond).
 */
export function findBursts(
  x: ArrayLike<number>,
  rate: number,
  options: BurstOptions = {},
): number[] {
  const threshold = options.threshold ?? BURST_AMPLITUDE / 4;
  const quiet = options.quietSamples ?? Math.round(rate * 0.2);
  const rise =
    (Math.asin(Math.min(1, threshold / BURST_AMPLITUDE)) / (2 * Math.PI * BURST_HZ)) * rate;
  const onsets: number[] = [];
  let lastLoud = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i] ?? 0) < threshold) continue;
    if (i - lastLoud > quiet) onsets.push(i - rise);
    lastLoud = i;
  }
  return onsets;
}

/** Zero crossings per second (rising and falling): twice the frequency of a pure tone. */
export function zeroCrossingsPerSecond(x: ArrayLike<number>, rate: number): number {
  let n = 0;
  let prev = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] ?? 0;
    if (v === 0) continue;
    if (prev !== 0 && Math.sign(v) !== Math.sign(prev)) n++;
    prev = v;
  }
  return (n * rate) / Math.max(1, x.length);
}

/** Offset in µs of a CLOCK_REALTIME instant from the nearest whole second. */
export function offsetFromSecondUs(realtimeUs: number): number {
  const r = ((realtimeUs % 1e6) + 1e6) % 1e6;
  return r > 5e5 ? r - 1e6 : r;
}
