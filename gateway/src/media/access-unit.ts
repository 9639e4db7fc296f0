/**
 * One encoded H.264 access unit (all NAL units of one picture) in Annex-B
 * form, as every media source emits it. `data` is never mutated after it is
 * emitted: the payloader and every viewer read the same Buffer.
 */
export interface AccessUnit {
  /** Annex-B byte stream (start codes included) of one picture. */
  readonly data: Buffer;
  /** Capture time, microseconds since the Unix epoch (CLOCK_REALTIME). */
  readonly captureTimeUs: number;
  /** True for an IDR picture (which then carries SPS/PPS before it). */
  readonly keyframe: boolean;
  readonly width: number;
  readonly height: number;
}
