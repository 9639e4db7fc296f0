/** The `make bench` scenario: stream a while, summarise latency, encode time and CPU. */
import { CameraPipeline } from "../camera-pipeline.js";
import type { PipelineOptions } from "../types.js";
import { realtimeUs } from "./realtime.js";

export interface BenchArgs {
  options: PipelineOptions;
  seconds: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Streams for a while and summarises latency, encode time and CPU (make bench). */
export async function bench(args: BenchArgs): Promise<unknown> {
  const p = CameraPipeline.open(args.options);
  const latencies: number[] = [];
  let first = 0;
  let cpu0 = process.cpuUsage();
  await new Promise<void>((done) => {
    p.on("frame", (f) => {
      // Skip the first second: start-up (first IDR, JIT) is not steady state.
      if (first === 0) first = f.captureTimeUs;
      if (f.captureTimeUs - first < 1_000_000) {
        cpu0 = process.cpuUsage();
        return;
      }
      latencies.push(realtimeUs() - f.captureTimeUs);
      if (latencies.length >= args.seconds * p.negotiated.fps) done();
    });
    p.start();
  });
  const cpu = process.cpuUsage(cpu0);
  const stats = p.stats();
  p.close();
  latencies.sort((a, b) => a - b);
  const videoSeconds = latencies.length / p.negotiated.fps;
  return {
    negotiated: p.negotiated,
    frames: latencies.length,
    latencyP50Us: percentile(latencies, 50),
    latencyP95Us: percentile(latencies, 95),
    encodeTimeMeanUs: stats.encodeTimeMeanUs,
    cpuMsPerVideoSecond: (cpu.user + cpu.system) / 1000 / videoSeconds,
    dropped: stats.framesDropped,
  };
}
