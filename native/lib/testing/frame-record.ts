import type { EncodedFrame } from "../types.js";
import { realtimeUs } from "./realtime.js";

/** What the scenarios keep of each encoded frame (its bytes go elsewhere). */
export interface FrameRecord {
  size: number;
  keyframe: boolean;
  captureTimeUs: number;
  /** When it reached JS, µs since the Unix epoch. */
  arrivalUs: number;
  width: number;
  height: number;
}

export function recordFrame(f: EncodedFrame): FrameRecord {
  return {
    size: f.data.length,
    keyframe: f.keyframe,
    captureTimeUs: f.captureTimeUs,
    arrivalUs: realtimeUs(),
    width: f.width,
    height: f.height,
  };
}
