/**
 * The sensors' state for Home Assistant, read from the samples /metrics
 * shows (gateway-metrics.ts), so nothing is counted twice and Home
 * Assistant and Prometheus always agree:
 *
 * - viewers: camgw_connected_sessions (sessions with media flowing);
 * - fps: the rate of camgw_source_frames_delivered_total (frames the source
 *   handed to the gateway) over the last period;
 * - bitrate: the rate of camgw_bytes_sent_total (RTP to every viewer
 *   together), kbit/s, over the last period.
 *
 * Rates need two readings: the first state after start says 0.
 */
import type { Sample } from "../http/metrics.js";

/** What ha/state carries (docs/home-assistant.md). */
export interface HaState {
  viewers: number;
  fps: number;
  /** kbit/s sent to viewers, all together. */
  bitrate: number;
  /**
   * Which encoder makes the H.264 (the source's own words); while the camera
   * is closed, the one it last used; "unknown" before it ever opened.
   */
  encoder: string;
  /** live | recovering | unavailable (docs/signaling.md, "source"). */
  source: string;
  /** The capture size, WxH. */
  size: string;
}

export interface HaStateInputs {
  /** The /metrics collector. */
  samples: () => Sample[];
  encoder: () => string | undefined;
  source: () => { state: string; size: string };
}

interface Counters {
  atMs: number;
  frames: number | undefined;
  bytes: number | undefined;
}

/** Rates over windows shorter than this are noise (a state sent at once on a change). */
const MIN_WINDOW_MS = 1000;

export class HaStateReader {
  #last: Counters | undefined;
  #rates = { fps: 0, bitrate: 0 };
  /** A closed camera names no encoder (V4l2Source.encoder): keep the last one known. */
  #encoder: string | undefined;

  constructor(private readonly inputs: HaStateInputs) {}

  /** The state now; rates over the time since the last reading at least 1 s ago. */
  read(nowMs: number): HaState {
    const samples = this.inputs.samples();
    const value = (name: string): number | undefined =>
      samples.find((s) => s.name === name && s.labels === undefined)?.value;
    const now: Counters = {
      atMs: nowMs,
      frames: value("camgw_source_frames_delivered_total"),
      bytes: value("camgw_bytes_sent_total"),
    };
    const last = this.#last;
    if (last === undefined) {
      this.#last = now;
    } else if (nowMs - last.atMs >= MIN_WINDOW_MS) {
      const seconds = (nowMs - last.atMs) / 1000;
      this.#rates = {
        fps: round(rate(last.frames, now.frames) / seconds, 1),
        bitrate: round((rate(last.bytes, now.bytes) * 8) / 1000 / seconds, 0),
      };
      this.#last = now;
    }
    const source = this.inputs.source();
    this.#encoder = this.inputs.encoder() ?? this.#encoder;
    return {
      viewers: value("camgw_connected_sessions") ?? 0,
      fps: this.#rates.fps,
      bitrate: this.#rates.bitrate,
      encoder: this.#encoder ?? "unknown",
      source: source.state,
      size: source.size,
    };
  }
}

/**
 * How much a counter grew. A counter that vanished (a source with nothing
 * open has no stats) grew by 0; one that went back (the camera was reopened
 * and its counters started again) grew by its new value.
 */
function rate(before: number | undefined, after: number | undefined): number {
  if (after === undefined) return 0;
  if (before === undefined || after < before) return after;
  return after - before;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
