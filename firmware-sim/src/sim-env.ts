/**
 * The environment contract of the virtual board: what a process needs to
 * run on it (LD_PRELOAD of libcamgw-vdev.so and CAMGW_SIM_*). Used by
 * `firmware-sim exec`, the gateway's `--source sim` and tests.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../gateway/src/errors.js";
import { findUp } from "../../gateway/src/paths.js";
import { parseFaults } from "./faults.js";

export type SimProfile = "pi4" | "pi5" | "uvc-h264";
export const SIM_PROFILES: readonly SimProfile[] = ["pi4", "pi5", "uvc-h264"];

/** What the virtual camera films: colour bars (default) or a realistic scene (docs/firmware-sim.md). */
export type SimScene = "bars" | "realistic";
export const SIM_SCENES: readonly SimScene[] = ["bars", "realistic"];

/** usb: the board has a USB sound card (microphone + speaker); none: no sound card */
export type SimAudio = "usb" | "none";
export const SIM_AUDIO: readonly SimAudio[] = ["usb", "none"];

export interface SimOptions {
  /** pi4: camera + H.264 encoder (default); pi5: camera only; uvc-h264: camera giving H.264 */
  profile?: SimProfile | undefined;
  /** bars (default): cheap to encode; realistic: detail, motion and noise that cost an encoder its bitrate */
  scene?: SimScene | undefined;
  /** fault list, see docs/firmware-sim.md */
  faults?: string | undefined;
  /** seed for the faults' randomness */
  seed?: number | undefined;
  /** control file re-read while running to change faults live */
  controlFile?: string | undefined;
  /** the sound card: usb (default) or none */
  audio?: SimAudio | undefined;
  /** WAV file the virtual speaker records what it plays into (default: not recorded) */
  speakerFile?: string | undefined;
  /** library to preload; default: firmware-sim/build/libcamgw-vdev.so */
  library?: string | undefined;
}

/**
 * The library, found by walking up from this module to the repository (or
 * /opt/camgw) root: the same from firmware-sim/src, from build/firmware-sim/src
 * and from a bundle anywhere below the root.
 */
export function defaultLibraryPath(): string {
  const relative = join("firmware-sim", "build", "libcamgw-vdev.so");
  const root = findUp(relative, dirname(fileURLToPath(import.meta.url)));
  return root ? join(root, relative) : resolve(relative);
}

export function isSimProfile(s: string): s is SimProfile {
  return (SIM_PROFILES as readonly string[]).includes(s);
}

export function isSimScene(s: string): s is SimScene {
  return (SIM_SCENES as readonly string[]).includes(s);
}

/**
 * The variables to add to a child's environment. Throws ConfigError for an
 * unknown profile, a bad fault list or seed, or a missing library.
 * An LD_PRELOAD already in `base` is kept after ours (ours must interpose
 * first; sanitizers that must load first can be placed before by the caller).
 */
export function simEnv(options: SimOptions = {}, base: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const profile = options.profile ?? "pi4";
  if (!isSimProfile(profile)) {
    throw new ConfigError(`unknown profile "${String(profile)}" (pi4, pi5, uvc-h264)`, {
      profile: String(profile),
    });
  }
  const library = options.library ?? defaultLibraryPath();
  if (!existsSync(library)) {
    throw new ConfigError(`virtual board library not found: ${library} (run \`make sim-build\`)`, {
      library,
    });
  }
  const env: NodeJS.ProcessEnv = {
    LD_PRELOAD: [library, base.LD_PRELOAD ?? ""].join(" ").trim(),
    CAMGW_SIM_PROFILE: profile,
  };
  if (options.scene !== undefined) {
    if (!isSimScene(options.scene)) {
      throw new ConfigError(`unknown scene "${String(options.scene)}" (bars, realistic)`, {
        scene: String(options.scene),
      });
    }
    env.CAMGW_SIM_SCENE = options.scene;
  }
  if (options.faults !== undefined && options.faults !== "") {
    parseFaults(options.faults);
    env.CAMGW_SIM_FAULTS = options.faults;
  }
  if (options.seed !== undefined) {
    if (!Number.isSafeInteger(options.seed) || options.seed < 0) {
      throw new ConfigError(`seed must be a non-negative integer, got ${options.seed}`, {
        seed: options.seed,
      });
    }
    env.CAMGW_SIM_SEED = String(options.seed);
  }
  if (options.controlFile !== undefined) env.CAMGW_SIM_CONTROL = resolve(options.controlFile);
  if (options.audio !== undefined) {
    const audio: string = options.audio;
    if (!(SIM_AUDIO as readonly string[]).includes(audio)) {
      throw new ConfigError(`unknown audio "${audio}" (usb, none)`, { audio });
    }
    env.CAMGW_SIM_AUDIO = options.audio;
  }
  if (options.speakerFile !== undefined) env.CAMGW_SIM_SPEAKER_FILE = resolve(options.speakerFile);
  return env;
}

/** Convenience for tests: the library path if built, else undefined. */
export function builtLibrary(): string | undefined {
  const p = defaultLibraryPath();
  return existsSync(p) ? p : undefined;
}

export const libraryBuildHint = `make sim-build (builds ${join("firmware-sim", "build", "libcamgw-vdev.so")})`;
