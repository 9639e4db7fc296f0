import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readStamp } from "../../gateway/src/media/frame-stamp.js";
import { simEnv, type SimScene } from "./sim-env.js";
import { buildDir, libraryPath, runOnBoard, runProgram } from "./test-support.js";

interface EncodeRun {
  aus: { bytes: number }[];
  fed: number;
  got: number;
  t0_real_us: number;
  t1_real_us: number;
}

interface Capture {
  frames: { seq: number; stamp_us: number }[];
  t0_real_us: number;
  t1_real_us: number;
}

const dir = mkdtempSync(join(tmpdir(), "camgw-sim-scene-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;

/**
 * The virtual camera into the virtual M2M encoder (libx264 with the Pi
 * encoder's settings, CBR) at 1280x720@30: frames, and the file they went to.
 */
async function encode(
  scene: SimScene,
  frames: number,
  bitrateKbps: number,
): Promise<[EncodeRun, string]> {
  const out = join(dir, `${scene}-${bitrateKbps}.h264`);
  const run = await runProgram<EncodeRun>(
    "enc_h264",
    [
      "/dev/video0",
      "/dev/video11",
      String(WIDTH),
      String(HEIGHT),
      String(FPS),
      String(frames),
      String(bitrateKbps * 1000),
      out,
      "dmabuf",
      "-1",
      "-1",
      "30000",
    ],
    { scene },
  );
  return [run, out];
}

/**
 * The rate the encoder settled on, from the bytes of the frames after the
 * first two seconds (rate control converging) at the nominal frame rate: a
 * property of the content, not of how fast this machine ran.
 */
function steadyKbps(run: EncodeRun): number {
  const steady = run.aus.slice(2 * FPS);
  const bytes = steady.reduce((sum, au) => sum + au.bytes, 0);
  return (bytes * 8 * FPS) / steady.length / 1000;
}

function decodeLuma(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "ffmpeg",
      ["-v", "error", "-f", "h264", "-i", file, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
      { encoding: "buffer", maxBuffer: 512 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(stderr.toString())) : resolve(stdout)),
    );
  });
}

/** Every decoded frame's stamp, in order (null where one does not read). */
async function stamps(file: string): Promise<(bigint | null)[]> {
  const luma = await decodeLuma(file);
  const size = WIDTH * HEIGHT;
  const out: (bigint | null)[] = [];
  for (let f = 0; f * size < luma.length; f++) {
    out.push(
      readStamp({ data: luma.subarray(f * size, (f + 1) * size), width: WIDTH, height: HEIGHT }),
    );
  }
  return out;
}

describe("the virtual camera's realistic scene (CAMGW_SIM_SCENE=realistic)", () => {
  it("costs the M2M encoder its 2 Mbit/s target, where the bars take a fraction of it", async () => {
    const [realistic] = await encode("realistic", 150, 2000);
    const [bars] = await encode("bars", 150, 2000);
    // Copy mode drops a camera frame when no OUTPUT buffer is free (a loaded
    // machine): every frame fed must come out, nearly all of them fed.
    expect(realistic.got).toBe(realistic.fed);
    expect(realistic.fed).toBeGreaterThan(140);
    expect(steadyKbps(realistic)).toBeGreaterThan(0.85 * 2000);
    expect(steadyKbps(realistic)).toBeLessThan(1.1 * 2000);
    expect(steadyKbps(bars)).toBeLessThan(0.5 * 2000);
  });

  it("keeps the frame stamp readable in every frame at 250 kbit/s", async () => {
    const [run, file] = await encode("realistic", 90, 250);
    expect(steadyKbps(run)).toBeGreaterThan(0.8 * 250);
    const read = await stamps(file);
    expect(read).toHaveLength(run.got);
    let previous = 0;
    for (const [i, stamp] of read.entries()) {
      expect(stamp, `frame ${i}`).not.toBeNull();
      const t = Number(stamp ?? 0n);
      expect(t).toBeGreaterThan(previous);
      expect(t).toBeGreaterThanOrEqual(run.t0_real_us);
      expect(t).toBeLessThanOrEqual(run.t1_real_us);
      previous = t;
    }
  });

  it.each(["YUYV", "NV12", "YU12"])(
    "draws %s frames whose stamps read back raw",
    async (fourcc) => {
      const r = await runProgram<Capture>(
        "cam_capture",
        ["/dev/video0", "640", "480", fourcc, "30", "20"],
        { scene: "realistic" },
      );
      expect(r.frames).toHaveLength(20);
      for (const f of r.frames) {
        expect(f.stamp_us).toBeGreaterThanOrEqual(r.t0_real_us);
        expect(f.stamp_us).toBeLessThanOrEqual(r.t1_real_us);
      }
    },
  );

  it("says so on stderr and films the bars for a scene it does not know", async () => {
    const env = { ...process.env, ...simEnv({ library: libraryPath }), CAMGW_SIM_SCENE: "beach" };
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        join(buildDir, "tests", "cam_capture"),
        ["/dev/video0", "640", "480", "YUYV", "30", "3"],
        { env },
        (err, _stdout, stderr) => resolve({ code: err ? 1 : 0, stderr }),
      );
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("unknown CAMGW_SIM_SCENE 'beach' (bars|realistic): using bars");
  });

  it("is refused by simEnv and firmware-sim exec when unknown", async () => {
    expect(() => simEnv({ library: libraryPath, scene: "beach" as SimScene })).toThrow(
      'unknown scene "beach" (bars, realistic)',
    );
    const r = await runOnBoard(process.execPath, [
      join(buildDir, "..", "bin", "firmware-sim.js"),
      "exec",
      "--scene",
      "beach",
      "--",
      "true",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown scene "beach"');
  });
});
