/**
 * What the libwebrtc reference viewer (reference-receiver.ts) saw, measured
 * as `camgw probe --timeline` measures camgw's calls so that figures.ts
 * reads both alike: each frame as the library hands it to its sink (decoded,
 * after libwebrtc's own jitter buffer, as a browser would render it), its
 * glass-to-glass from the frame stamp the virtual camera draws, freezes by
 * webrtc-stats' rule (probe/stats.ts) and the second-by-second timeline.
 */
import { readStamp } from "../media/frame-stamp.js";
import { findFreezes, percentile, round } from "../probe/stats.js";
import { ProbeTimeline } from "../probe/timeline.js";
import type { ViewerRecord } from "./figures.js";

export interface ReferenceViewerReport extends ViewerRecord {
  video: boolean;
  width: number | null;
  height: number | null;
  glassToGlassMs: { p50: number; p95: number } | null;
}

/** One decoded I420 picture, as @roamhq/wrtc's RTCVideoSink gives it. */
export interface SinkFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export class ReferenceViewerMeasure {
  /** When the offer arrived, ms since the epoch: the timeline's origin, as the probe's offer. */
  #offerAt: number | null = null;
  readonly #frameTimesMs: number[] = [];
  readonly #latenciesMs: number[] = [];
  readonly #timeline = new ProbeTimeline(() => this.#offerAt);
  #size: { width: number; height: number } | null = null;
  /** Each size the viewer was shown, from when (ms after the offer), as the probe reports them. */
  readonly #sizes: { atMs: number; width: number; height: number }[] = [];

  /** `source`: the camera's picture size (libwebrtc may scale it down; the stamp's cells are the camera's). */
  constructor(private readonly source: { width: number; height: number }) {}

  offered(atMs: number = Date.now()): void {
    this.#offerAt ??= atMs;
  }

  /** Video payload bytes that arrived since the last call (from getStats). */
  received(bytes: number, atMs: number = Date.now()): void {
    this.#timeline.received(atMs, bytes);
  }

  shown(frame: SinkFrame, atMs: number = Date.now()): void {
    if (this.#size?.width !== frame.width || this.#size.height !== frame.height) {
      // libwebrtc scales down under a cap (its "balanced" degradation).
      this.#sizes.push({
        atMs: round(atMs - (this.#offerAt ?? atMs)),
        width: frame.width,
        height: frame.height,
      });
    }
    this.#size = { width: frame.width, height: frame.height };
    // I420: the luma plane comes first, width bytes a row.
    const stampUs = readStamp(
      { data: frame.data, width: frame.width, height: frame.height },
      this.source.width,
      this.source.height,
    );
    const latency = stampUs === null ? null : atMs - Number(stampUs) / 1000;
    if (latency !== null) this.#latenciesMs.push(latency);
    this.#timeline.shown(atMs, latency);
    this.#frameTimesMs.push(atMs);
  }

  report(endMs: number = Date.now()): ReferenceViewerReport {
    const offerAt = this.#offerAt ?? endMs;
    const lat = this.#latenciesMs;
    return {
      offerAt: round(offerAt),
      watchedMs: round(endMs - offerAt),
      frames: this.#frameTimesMs.length,
      freezeList: findFreezes(this.#frameTimesMs, endMs).map((f) => ({
        atMs: round(f.atMs - offerAt),
        durationMs: round(f.durationMs),
      })),
      timeline: this.#timeline.seconds(endMs),
      sizes: [...this.#sizes],
      video: this.#frameTimesMs.length > 0,
      width: this.#size?.width ?? null,
      height: this.#size?.height ?? null,
      glassToGlassMs:
        lat.length === 0
          ? null
          : { p50: round(percentile(lat, 50)), p95: round(percentile(lat, 95)) },
    };
  }
}
