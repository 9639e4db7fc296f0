import { readdir, readFile } from "node:fs/promises";
import { loadavg } from "node:os";

/**
 * One look at the gateway process: from outside through /proc (what the
 * kernel says it holds, even while its event loop is stuck) and from inside
 * through /metrics (camgw_process_*: the event loop, its handles and
 * timers; camgw_sessions).
 */
export interface GatewaySample {
  /** ms since the soak started. */
  t: number;
  /** Viewer sessions the gateway holds (camgw_sessions). */
  sessions: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  threads: number;
  /** libuv handles and requests, all types. */
  handles: number;
  /** Of which timers (Timeout). */
  timers: number;
  /** Event-loop delay since the previous sample, 99th percentile and most, ms. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** 1 while the source streams (camgw_source_running): a camera away closes it. */
  sourceRunning: number;
  /**
   * When the encoder last fell back to x264 (camgw_source_encoder_fallbacks_total
   * grew; ms since the soak started), or null; it stays for 10 min
   * (docs/architecture.md "Faults").
   */
  fallbackAt: number | null;
  /** 1 while that fallback lasts. */
  softwareEncoder: number;
  /** Frames the gateway packetized since the soak started, and per second since the previous sample. */
  framesOut: number;
  fpsOut: number;
  /** Figures for the timeline log (DIAGNOSTICS), by metric name. */
  diagnostics: Record<string, number>;
  /** The machine's 1-minute load average (the soak shares it; 2 cores here). */
  load: number;
}

/** A sample's value from /metrics text, labels included in `name` (NaN when absent). */
export function metricValue(text: string, name: string): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest.startsWith(" ")) return Number(rest.trim());
  }
  return Number.NaN;
}

/** The sum of a metric over all its labels. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

async function procStatus(pid: number): Promise<{ rssKb: number; threads: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssKb: field("VmRSS"), threads: field("Threads") };
}

/** How long x264 stands in after the hardware encoder stalled twice (source-factory, 10 min). */
const SOFTWARE_ENCODER_MS = 10 * 60_000;

/** What the timeline log shows of each sample beside the table, to tell a stuck source from a stuck sender. */
const DIAGNOSTICS = [
  "camgw_connected_sessions",
  "camgw_key_frame_requests_total",
  "camgw_key_frames_requested_from_source_total",
  "camgw_pli_received_total",
  "camgw_ice_restarts_total",
  "camgw_encoder_target_kbps",
  "camgw_video_lowest_estimate_bps",
  "camgw_video_pacer_queue_delay_max_ms",
  "camgw_video_packets_superseded_total",
  "camgw_source_frames_captured_total",
  "camgw_source_frames_encoded_total",
  "camgw_source_frames_dropped_total",
  "camgw_source_queue_depth",
  "camgw_source_live",
];

/** `previous`: the sample before, for the rates. */
export async function sampleGateway(
  pid: number,
  metricsUrl: string,
  t: number,
  previous?: GatewaySample,
): Promise<GatewaySample> {
  const [status, fds, text] = await Promise.all([
    procStatus(pid),
    readdir(`/proc/${pid}/fd`).then((l) => l.length),
    fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text()),
  ]);
  const seconds = (name: string): number => metricValue(text, name) * 1000;
  const framesOut = metricValue(text, "camgw_frames_packetized_total");
  const fpsOut = previous
    ? ((framesOut - previous.framesOut) * 1000) / Math.max(1, t - previous.t)
    : Number.NaN;
  const fallbacks = metricValue(text, "camgw_source_encoder_fallbacks_total") || 0;
  const fellBack = fallbacks > (previous?.diagnostics.fallbacks ?? 0);
  const fallbackAt = fellBack ? t : (previous?.fallbackAt ?? null);
  const diagnostics: Record<string, number> = { fallbacks };
  const software = metricValue(text, "camgw_source_software_encoder");
  for (const name of DIAGNOSTICS) diagnostics[name] = metricValue(text, name);
  for (const line of text.split("\n"))
    if (line.startsWith("camgw_sessions_ended_total{"))
      diagnostics[line.slice(0, line.lastIndexOf(" "))] = Number(
        line.slice(line.lastIndexOf(" ") + 1),
      );
  return {
    t,
    sessions: metricValue(text, "camgw_sessions"),
    rssMb: status.rssKb / 1024,
    heapMb: metricValue(text, "camgw_process_heap_used_bytes") / 2 ** 20,
    fds,
    threads: status.threads,
    handles: metricSum(text, "camgw_process_active_resources"),
    timers: metricValue(text, 'camgw_process_active_resources{type="Timeout"}') || 0,
    lagP99Ms: seconds("camgw_process_event_loop_lag_p99_seconds"),
    lagMaxMs: seconds("camgw_process_event_loop_lag_max_seconds"),
    load: loadavg()[0] ?? Number.NaN,
    sourceRunning: metricValue(text, "camgw_source_running"),
    fallbackAt,
    // x264 in use, whichever way it came (a fallback, or auto finding no M2M
    // encoder on a reopen); gateways without the gauge: the fallback's hold.
    softwareEncoder: Number.isNaN(software)
      ? fallbackAt !== null && t - fallbackAt < SOFTWARE_ENCODER_MS
        ? 1
        : 0
      : software,
    framesOut,
    fpsOut,
    diagnostics,
  };
}
