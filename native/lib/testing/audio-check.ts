/**
 * Checks on audio streams with independent tools: ffmpeg's own Opus decoder
 * (not libopus) for what the addon encodes, ffmpeg with libopus to make
 * packets for the addon to play, and the virtual board's signal reader.
 */
import { execFileSync } from "node:child_process";

/** Decodes an Ogg Opus file to 48 kHz S16 samples (pre-skip applied) with ffmpeg's native decoder. */
export function decodeOggOpus(file: string, channels: number): Int16Array {
  const out = execFileSync(
    "ffmpeg",
    [
      "-v",
      "error",
      "-c:a",
      "opus",
      "-i",
      file,
      "-f",
      "s16le",
      "-ac",
      String(channels),
      "-ar",
      "48000",
      "-",
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return new Int16Array(out.buffer, out.byteOffset, out.length / 2);
}

/** An Ogg Opus file of a sine tone, 20 ms packets, made by ffmpeg with libopus. */
export function encodeToneOggOpus(file: string, hz: number, seconds: number): void {
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=${hz}:sample_rate=48000:duration=${seconds}`,
    "-c:a",
    "libopus",
    "-b:a",
    "48k",
    "-frame_duration",
    "20",
    "-y",
    file,
  ]);
}

/** Stretches where |x| stays above `level` for at least `minSamples`: [start, length]. */
export function loudRuns(
  x: ArrayLike<number>,
  level: number,
  minSamples: number,
): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  let quiet = 0;
  for (let i = 0; i <= x.length; i++) {
    const loud = i < x.length && Math.abs(x[i] ?? 0) >= level;
    if (loud) {
      if (start < 0) start = i;
      quiet = 0;
      continue;
    }
    // a sine crosses zero every half period: tolerate short quiet stretches
    if (start >= 0 && (++quiet > 200 || i === x.length)) {
      const len = i - quiet + 1 - start;
      if (len >= minSamples) out.push([start, len]);
      start = -1;
      quiet = 0;
    }
  }
  return out;
}
