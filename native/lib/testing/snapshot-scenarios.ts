/** Snapshot scenarios for the virtual board (run by board.ts in a child process). */
import { CameraPipeline } from "../index.js";
import type { PipelineOptions, SnapshotOptions } from "../types.js";
import { realtimeUs } from "./realtime.js";

export interface SnapshotArgs {
  options: PipelineOptions;
  /** Snapshots to take while streaming, one after the other. */
  shots: SnapshotOptions[];
}

export interface ShotResult {
  /** The JPEG, base64; absent when the snapshot failed. */
  jpeg?: string;
  width?: number;
  height?: number;
  captureTimeUs?: number;
  /** CLOCK_REALTIME when the promise settled, µs. */
  settledUs: number;
  /** name / reason / message of the error, when it failed. */
  error?: { name: string; reason?: string; message: string };
}

export interface SnapshotResult {
  beforeStart: ShotResult;
  shots: ShotResult[];
  /** A snapshot asked for just before the pipeline closed. */
  duringClose: ShotResult;
  afterClose: ShotResult;
}

async function shot(p: CameraPipeline, o: SnapshotOptions): Promise<ShotResult> {
  try {
    const s = await p.snapshot(o);
    return {
      jpeg: s.jpeg.toString("base64"),
      width: s.width,
      height: s.height,
      captureTimeUs: s.captureTimeUs,
      settledUs: realtimeUs(),
    };
  } catch (e) {
    const err = e as Error & { reason?: string };
    return {
      settledUs: realtimeUs(),
      error: {
        name: err.name,
        message: err.message,
        ...(err.reason === undefined ? {} : { reason: err.reason }),
      },
    };
  }
}

async function snapshot(args: SnapshotArgs): Promise<SnapshotResult> {
  const p = CameraPipeline.open(args.options);
  const beforeStart = await shot(p, {});
  p.start();
  const shots: ShotResult[] = [];
  for (const o of args.shots) shots.push(await shot(p, o));
  // A long wait, cut short by close(): the pending job must fail, not hang or crash.
  const pending = shot(p, { timeoutMs: 60_000 });
  p.close();
  const duringClose = await pending;
  const afterClose = await shot(p, {});
  return { beforeStart, shots, duringClose, afterClose };
}

export const snapshotScenarios = { snapshot };
