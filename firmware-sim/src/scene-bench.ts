import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { runProbe } from "../../gateway/src/probe/probe.js";
import { probeLogin, startGateway } from "../../gateway/src/testing/gateway-process.js";
import { defaultLibraryPath, simEnv, type SimProfile, type SimScene } from "./sim-env.js";

/**
 * `make bench`, virtual-camera part. Prints
 *   - the CPU the camera costs per frame at 1080p30, bars and realistic,
 *     in each raw format (the whole capture process: sensor thread drawing
 *     plus the test client, which is the same for both scenes);
 *   - the bitrate the gateway sends at 1280x720@30, 2 Mbit/s asked, through
 *     the virtual M2M encoder (pi4) and the addon's x264 (pi5), per scene.
 * Figures only; nothing here passes or fails.
 */

const SCENES: SimScene[] = ["bars", "realistic"];

/** CPU seconds (user + system) `cam_capture` used for `frames` frames, from bash's `times`. */
function captureCpuSeconds(scene: SimScene, fourcc: string, frames: number): number {
  // Beside the library: firmware-sim/build/tests (found from build/ too).
  const program = join(dirname(defaultLibraryPath()), "tests", "cam_capture");
  const env = { ...process.env, ...simEnv({ scene }, process.env) };
  const r = spawnSync(
    "bash",
    ["-c", `"$0" /dev/video0 1920 1080 ${fourcc} 30 ${frames} >/dev/null && times`, program],
    { env, encoding: "utf8" },
  );
  // `times` prints the shell's own user/system times, then its children's: "0m1.234s 0m0.050s".
  const children = r.stdout.trim().split("\n").at(-1) ?? "";
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map(
    (m) => Number(m[1]) * 60 + Number(m[2]),
  );
  if (r.status !== 0 || seconds.length !== 2) throw new Error(`cam_capture failed: ${r.stderr}`);
  return (seconds[0] ?? 0) + (seconds[1] ?? 0);
}

/** A counter from the gateway's /metrics. */
async function counter(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}metrics`)).text();
  const value = new RegExp(`^camgw_${name} (\\S+)$`, "m").exec(text)?.[1];
  if (value === undefined) throw new Error(`/metrics has no camgw_${name}`);
  return Number(value);
}

/**
 * The stream's rate once the encoder has settled: RTP bytes sent per frame
 * packetized over 10 s (one viewer, after 4 s), at the nominal 30 fps.
 */
async function sentKbps(profile: SimProfile, scene: SimScene): Promise<number> {
  const gw = await startGateway({
    sim: { profile, scene },
    args: ["--device-id", "scene", "--size", "1280x720", "--fps", "30", "--bitrate", "2000"],
  });
  try {
    const watching = runProbe({
      ...probeLogin(gw),
      deviceId: "scene",
      seconds: 16,
      decode: false,
    });
    await new Promise((r) => setTimeout(r, 4000));
    const bytes0 = await counter(gw.httpUrl, "bytes_sent_total");
    const frames0 = await counter(gw.httpUrl, "frames_packetized_total");
    await new Promise((r) => setTimeout(r, 10_000));
    const bytes = (await counter(gw.httpUrl, "bytes_sent_total")) - bytes0;
    const frames = (await counter(gw.httpUrl, "frames_packetized_total")) - frames0;
    await watching;
    return Math.round((bytes * 8 * 30) / frames / 1000);
  } finally {
    await gw.stop();
  }
}

export async function sceneBench(): Promise<void> {
  const frames = 150;
  console.log(
    `virtual camera: CPU per frame at 1920x1080@30 (${frames} frames, whole capture process)`,
  );
  for (const fourcc of ["YUYV", "NV12", "YU12"]) {
    const cells = SCENES.map((scene) => {
      const perFrameMs = (captureCpuSeconds(scene, fourcc, frames) * 1000) / frames;
      return `${scene} ${perFrameMs.toFixed(2)} ms`;
    });
    console.log(`  ${fourcc}   ${cells.join("   ")}`);
  }
  const startup = SCENES.map((scene) => captureCpuSeconds(scene, "YUYV", 1));
  console.log(
    `  first frame (realistic builds its texture): bars ${(startup[0] ?? 0) * 1000} ms, realistic ${(startup[1] ?? 0) * 1000} ms of CPU`,
  );
  console.log(
    "virtual camera: stream rate at 1280x720@30 with 2000 kbit/s asked (RTP bytes per frame x 30, one viewer, 10 s)",
  );
  for (const [profile, encoder] of [
    ["pi4", "virtual M2M encoder"],
    ["pi5", "x264 (addon)"],
  ] as const) {
    const cells: string[] = [];
    for (const scene of SCENES) cells.push(`${scene} ${await sentKbps(profile, scene)} kbit/s`);
    console.log(`  ${encoder.padEnd(20)} ${cells.join("   ")}`);
  }
}
