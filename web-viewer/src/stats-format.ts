/** The stats panel's rows: figures to short, fixed-width-friendly text. */
import type { LatencySummary } from "./latency-series.js";
import type { VideoStats } from "./rtc-stats.js";

export interface TileFigures {
  readonly video: VideoStats | undefined;
  readonly ttffMs: number | undefined;
  readonly latency: LatencySummary;
  /** Glass-to-glass from capture times (abs-capture-time): shown where frames carry no stamp. */
  readonly captureLatency?: LatencySummary;
  /** Frames the page saw presented (requestVideoFrameCallback). */
  readonly frames: number;
  /** Own freeze count, used when the browser reports none. */
  readonly freezes: number;
}

const DASH = "–";

function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : `${Math.round(value)} ms`;
}

export function formatFigures(f: TileFigures): [label: string, value: string][] {
  const v = f.video;
  const size = v?.width !== undefined && v.height !== undefined ? `${v.width}×${v.height}` : DASH;
  const stamped = f.latency.last !== null;
  const lat = stamped ? f.latency : (f.captureLatency ?? f.latency);
  return [
    ["Resolution", size],
    ["FPS", v?.fps === undefined ? DASH : v.fps.toFixed(1)],
    [
      "Bitrate",
      v?.kbps === undefined
        ? DASH
        : v.kbps >= 1000
          ? `${(v.kbps / 1000).toFixed(2)} Mb/s`
          : `${Math.round(v.kbps)} kb/s`,
    ],
    ["RTT", ms(v?.rttMs)],
    [
      "Packets lost",
      v === undefined ? DASH : `${v.packetsLost} of ${v.packetsReceived + v.packetsLost}`,
    ],
    ["Freezes", String(v?.freezes ?? f.freezes)],
    ["First frame", ms(f.ttffMs)],
    [
      "Glass-to-glass",
      lat.last === null
        ? "no stamp"
        : `${ms(lat.last)} (p50 ${ms(lat.p50)}, p95 ${ms(lat.p95)})${stamped ? "" : ", capture time"}`,
    ],
    ["Jitter buffer", ms(v?.jitterBufferMs)],
    ["Codec", v?.codec ?? DASH],
  ];
}
