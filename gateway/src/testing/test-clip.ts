import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { AccessUnitSplitter } from "../media/access-unit-splitter.js";

/**
 * Real H.264 for tests, encoded at test time by Debian's ffmpeg + libx264
 * from its lavfi `testsrc` pattern (RGB, so yuv420p is forced for the
 * Baseline profile; no B-frames, an IDR every `gop` frames), split into
 * access units the way an encoder hands them to the gateway.
 */
export interface ClipAccessUnit {
  data: Buffer;
  keyframe: boolean;
}

export interface ClipOptions {
  width?: number;
  height?: number;
  fps?: number;
  frames?: number;
  gop?: number;
  /** Pace output at the frame rate (ffmpeg -re), as a live camera would. */
  realtime?: boolean;
  /** Extra libx264 output options, e.g. ["-slices", "4"]. */
  extra?: string[];
}

const run = promisify(execFile);

/** The ffmpeg command line (argv) that writes the clip as Annex-B to stdout. */
export function testClipCommand(options: ClipOptions = {}): string[] {
  const { width = 640, height = 360, fps = 30, frames = 60, gop = 30 } = options;
  return [
    "ffmpeg",
    "-hide_banner",
    "-loglevel",
    "error",
    ...(options.realtime ? ["-re"] : []),
    "-f",
    "lavfi",
    "-i",
    `testsrc=size=${width}x${height}:rate=${fps}`,
    "-frames:v",
    String(frames),
    "-pix_fmt",
    "yuv420p",
    "-c:v",
    "libx264",
    "-profile:v",
    "baseline",
    "-tune",
    "zerolatency",
    "-bf",
    "0",
    "-g",
    String(gop),
    ...(options.extra ?? []),
    "-f",
    "h264",
    "-",
  ];
}

/** The clip as one Annex-B byte stream. */
export async function encodeTestStream(options: ClipOptions = {}): Promise<Buffer> {
  const [cmd = "ffmpeg", ...args] = testClipCommand({ ...options, realtime: false });
  const { stdout } = await run(cmd, args, { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The clip's access units, in order. */
export async function encodeTestClip(options: ClipOptions = {}): Promise<ClipAccessUnit[]> {
  const units: ClipAccessUnit[] = [];
  const splitter = new AccessUnitSplitter((u) =>
    units.push({ data: u.data, keyframe: u.keyframe }),
  );
  splitter.push(await encodeTestStream(options));
  splitter.flush();
  return units;
}
