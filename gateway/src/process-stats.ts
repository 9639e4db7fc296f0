import { readdirSync, readFileSync } from "node:fs";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/**
 * The gateway process itself, for /metrics (camgw_process_...): memory,
 * open file descriptors, threads, the event loop's delay and the handles
 * and requests that keep it alive. A board left alone for a year must not
 * grow any of them; `make soak` (gateway/src/soak) watches these.
 */
export interface ProcessStatsSnapshot {
  /** Resident set size, bytes (process.memoryUsage().rss). */
  residentBytes: number;
  /** V8 heap in use, bytes. */
  heapUsedBytes: number;
  /** Memory outside the V8 heap held by JS objects (Buffers), bytes. */
  externalBytes: number;
  /** Open file descriptors (/proc/self/fd; -1 where /proc is missing). */
  openFds: number;
  /** Threads of the process (/proc/self/status Threads; -1 where /proc is missing). */
  threads: number;
  /** Event-loop delay since the previous snapshot, seconds: median, 99th percentile, most. */
  eventLoopLagP50Seconds: number;
  eventLoopLagP99Seconds: number;
  eventLoopLagMaxSeconds: number;
  /**
   * Live libuv handles and requests by type, as process.getActiveResourcesInfo()
   * names them (Timeout, TCPSocketWrap, UDPSocketWrap, FSReqCallback, ...).
   */
  activeResources: Record<string, number>;
}

/**
 * perf_hooks' histogram samples the loop's delay every `resolution` ms
 * (Node's libuv timer, 10 ms here: fine enough for a loop that should answer
 * within a frame interval of 33 ms).
 */
const RESOLUTION_MS = 10;

export class ProcessStats {
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  #closed = false;

  constructor() {
    this.#delay.enable();
  }

  /** The figures now; the event-loop delay covers the time since the previous call. */
  snapshot(): ProcessStatsSnapshot {
    const memory = process.memoryUsage();
    // The histogram is in nanoseconds; it is empty (NaN) before its first sample.
    const seconds = (ns: number): number => (Number.isFinite(ns) ? ns / 1e9 : 0);
    const lag = {
      p50: seconds(this.#delay.percentile(50)),
      p99: seconds(this.#delay.percentile(99)),
      max: seconds(this.#delay.max),
    };
    this.#delay.reset();
    const activeResources: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo())
      activeResources[r] = (activeResources[r] ?? 0) + 1;
    return {
      residentBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external,
      openFds: openFds(),
      threads: threads(),
      eventLoopLagP50Seconds: lag.p50,
      eventLoopLagP99Seconds: lag.p99,
      eventLoopLagMaxSeconds: lag.max,
      activeResources,
    };
  }

  /** Stops sampling the event loop; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#delay.disable();
  }
}

function openFds(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

function threads(): number {
  try {
    const m = /^Threads:\s+(\d+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}
