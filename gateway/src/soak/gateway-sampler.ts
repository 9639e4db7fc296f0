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

export async function sampleGateway(
  pid: number,
  metricsUrl: string,
  t: number,
): Promise<GatewaySample> {
  const [status, fds, text] = await Promise.all([
    procStatus(pid),
    readdir(`/proc/${pid}/fd`).then((l) => l.length),
    fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text()),
  ]);
  const seconds = (name: string): number => metricValue(text, name) * 1000;
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
  };
}
