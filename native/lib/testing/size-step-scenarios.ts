/** Size-step scenarios for the virtual board (run by board.ts in a child process). */
import { writeFileSync } from "node:fs";
import { CameraPipeline } from "../index.js";
import type { EncodedFrame, PipelineOptions } from "../types.js";
import { recordFrame, type FrameRecord } from "./frame-record.js";

export interface SizeStepArgs {
  options: PipelineOptions;
  /** The encoded sizes to step through, one after another, while the pipeline runs. */
  sizes: { width: number; height: number }[];
  /** Main frames to collect at each size (and at the negotiated size first). */
  framesPerSize: number;
  /** Each run of frames of one size is written to `${out}.${k}.h264`. */
  out: string;
}

/** The pipeline's counters at one instant. */
export interface CaptureCount {
  framesCaptured: number;
  cameraSequence: number;
}

export interface SizeStepResult {
  /** Runs of main frames of one size, in order. */
  runs: { width: number; height: number; frames: FrameRecord[] }[];
  /** When each step was asked (before it), and at the end. */
  counts: CaptureCount[];
  zeroCopyBefore: boolean;
  zeroCopyAfter: boolean;
  encoder: string;
  errors: string[];
}

async function sizeStep(args: SizeStepArgs): Promise<SizeStepResult> {
  const p = CameraPipeline.open(args.options);
  const runs: SizeStepResult["runs"] = [];
  const data: Buffer[][] = [];
  const counts: CaptureCount[] = [];
  const errors: string[] = [];
  const count = (): CaptureCount => {
    const s = p.stats();
    return { framesCaptured: s.framesCaptured, cameraSequence: s.cameraSequence };
  };
  p.on("error", (e) => errors.push(e.message));
  let zeroCopyBefore = false;
  let asked = 0;
  let sinceStep = 0;
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`${asked} of ${args.sizes.length} steps after 30 s`));
    }, 30_000);
    p.on("frame", (f: EncodedFrame) => {
      if (f.layer !== 0) return;
      const last = runs[runs.length - 1];
      if (!last || last.width !== f.width || last.height !== f.height) {
        runs.push({ width: f.width, height: f.height, frames: [] });
        data.push([]);
      }
      runs[runs.length - 1]?.frames.push(recordFrame(f));
      data[data.length - 1]?.push(f.data);
      if (runs.length === 1 && sinceStep === 0) zeroCopyBefore = p.zeroCopy;
      if (++sinceStep < args.framesPerSize) return;
      const next = args.sizes[asked];
      counts.push(count());
      if (!next) {
        clearTimeout(timer);
        done();
        return;
      }
      asked++;
      // Frames already on their way come at the old size; the count starts at the new one.
      sinceStep = -100_000;
      p.setEncodedSize(next);
      const waitFor = next;
      const check = (g: EncodedFrame): void => {
        if (g.layer !== 0 || g.width !== waitFor.width || g.height !== waitFor.height) return;
        p.off("frame", check);
        sinceStep = 0;
      };
      p.prependListener("frame", check);
    });
    p.start();
  });
  const result: SizeStepResult = {
    runs,
    counts,
    zeroCopyBefore,
    zeroCopyAfter: p.zeroCopy,
    encoder: p.negotiated.encoder,
    errors,
  };
  p.close();
  data.forEach((d, k) => writeFileSync(`${args.out}.${k}.h264`, Buffer.concat(d)));
  return result;
}

export interface SizeStepErrorArgs {
  options: PipelineOptions;
  size: { width: number; height: number };
}

/** What setEncodedSize() threw, on a pipeline opened and not started. */
function sizeStepError(args: SizeStepErrorArgs): Promise<unknown> {
  const p = CameraPipeline.open(args.options);
  try {
    p.setEncodedSize(args.size);
    return Promise.resolve({ thrown: false });
  } catch (e) {
    const err = e as Error;
    return Promise.resolve({ thrown: true, name: err.name, message: err.message });
  } finally {
    p.close();
  }
}

export const sizeStepScenarios = { sizeStep, sizeStepError };
