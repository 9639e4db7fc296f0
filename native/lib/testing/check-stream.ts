/** Checks a captured H.264 stream end to end: AU syntax, SPS/PPS on IDRs, ffmpeg decode, frame stamps. */
import { readFileSync } from "node:fs";
import { accessUnitProblems, isIdr } from "./annexb.js";
import { decodeLuma } from "./decode.js";
// Tests may use the gateway's isomorphic stamp reader; the addon itself never imports gateway code.
import { readStamp } from "../../../gateway/src/media/frame-stamp.js";
import type { FrameRecord } from "./frame-record.js";

export interface StreamCheck {
  problems: string[];
  idrCount: number;
  decodedFrames: number;
  decoderErrors: string;
  /** Stamp read from each decoded frame (undefined when unreadable). */
  stamps: (number | undefined)[];
  /** stamp - captureTimeUs per frame where both exist, µs. */
  stampSkewUs: number[];
}

/** `source`: the camera's size, when the stream is a scaled copy of its picture. */
export function checkStream(
  path: string,
  frames: FrameRecord[],
  source?: { width: number; height: number },
): StreamCheck {
  const data = readFileSync(path);
  const problems: string[] = [];
  let offset = 0;
  let idrCount = 0;
  frames.forEach((f, i) => {
    const au = data.subarray(offset, offset + f.size);
    offset += f.size;
    for (const p of accessUnitProblems(au)) problems.push(`frame ${i}: ${p}`);
    const idr = isIdr(au);
    if (idr) idrCount++;
    if (idr !== f.keyframe) problems.push(`frame ${i}: keyframe flag ${f.keyframe} but IDR ${idr}`);
  });
  if (offset !== data.length) problems.push(`stream has ${data.length - offset} stray bytes`);
  const first = frames[0];
  const width = first?.width ?? 0;
  const height = first?.height ?? 0;
  const decoded = decodeLuma(data, width, height);
  const stamps = decoded.frames.map((l) => {
    const t = readStamp({ data: l, width, height }, source?.width, source?.height);
    return t === null ? undefined : Number(t);
  });
  const stampSkewUs: number[] = [];
  stamps.forEach((s, i) => {
    const f = frames[i];
    if (s !== undefined && f !== undefined) stampSkewUs.push(s - f.captureTimeUs);
  });
  return {
    problems,
    idrCount,
    decodedFrames: decoded.frames.length,
    decoderErrors: decoded.stderr,
    stamps,
    stampSkewUs,
  };
}
