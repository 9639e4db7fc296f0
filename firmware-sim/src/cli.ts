/**
 * `firmware-sim` command line. `exec` runs any command on the virtual board,
 * as umockdev-run does: stdio inherited, signals forwarded, its exit code
 * (or 128 + signal) returned.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { CamgwError, ConfigError } from "../../gateway/src/errors.js";
import { isSimProfile, isSimScene, simEnv, type SimOptions } from "./sim-env.js";

const USAGE = `usage: firmware-sim exec [--profile pi4|pi5|uvc-h264] [--scene bars|realistic]
                         [--faults SPEC] [--seed N] [--control FILE]
                         [--audio usb|none] [--speaker FILE] -- CMD [ARGS...]
       firmware-sim up [--help] ...   boot a board running the gateway (see up --help)
       firmware-sim net up|set|change|list|sweep ...   the network lab (see net --help)

Runs CMD with the virtual board preloaded (docs/firmware-sim.md).
  --profile   pi4: camera /dev/video0 + H.264 encoder /dev/video11 (default)
              pi5: camera only; uvc-h264: a camera that gives H.264
  --scene     bars: moving colour bars (default, cheap to encode);
              realistic: detail, motion and sensor noise, so encoders need their bitrate
  --faults    fault list, e.g. "drop:rate=0.1,unplug:at=5s:for=2s"
  --seed      seed for the faults' randomness (default 1)
  --control   file re-read while running: its content replaces the faults
  --audio     usb: a USB sound card, microphone + speaker (default); none: no card
  --speaker   WAV file the virtual speaker records what it plays into`;

export interface ExecArgs {
  options: SimOptions;
  command: string[];
}

function value(argv: string[], i: number, flag: string): string {
  const v = argv[i + 1];
  if (v === undefined || v.startsWith("--")) {
    throw new ConfigError(`${flag} needs a value`, { flag });
  }
  return v;
}

/** Parses `exec`'s arguments; throws ConfigError with what is wrong. */
export function parseExecArgs(argv: string[]): ExecArgs {
  const options: SimOptions = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      i++;
      break;
    }
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a];
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(argv, i, flag);
      i++;
      return v;
    };
    switch (flag) {
      case "--profile": {
        const p = take();
        if (!isSimProfile(p)) {
          throw new ConfigError(`unknown profile "${p}" (pi4, pi5, uvc-h264)`, { profile: p });
        }
        options.profile = p;
        break;
      }
      case "--scene": {
        const scene = take();
        if (!isSimScene(scene)) {
          throw new ConfigError(`unknown scene "${scene}" (bars, realistic)`, { scene });
        }
        options.scene = scene;
        break;
      }
      case "--faults":
        options.faults = take();
        break;
      case "--seed": {
        const s = take();
        if (!/^\d+$/.test(s)) {
          throw new ConfigError(`--seed must be a non-negative integer, got "${s}"`, { seed: s });
        }
        options.seed = Number(s);
        break;
      }
      case "--control":
        options.controlFile = take();
        break;
      case "--audio": {
        const v = take();
        if (v !== "usb" && v !== "none") {
          throw new ConfigError(`--audio must be usb or none, got "${v}"`, { audio: v });
        }
        options.audio = v;
        break;
      }
      case "--speaker":
        options.speakerFile = take();
        break;
      default:
        if (a.startsWith("-")) throw new ConfigError(`unknown option ${a}`, { option: a });
        return { options, command: argv.slice(i) };
    }
  }
  return { options, command: argv.slice(i) };
}

const FORWARDED: NodeJS.Signals[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

/**
 * The Debian packages of the tools docs/firmware-sim.md runs on the board:
 * `make run` installs none of them (only `make test` does, deps/apt/dev).
 */
const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  "v4l2-ctl": "v4l-utils",
  "v4l2-compliance": "v4l-utils",
  ffmpeg: "ffmpeg",
  ffprobe: "ffmpeg",
  arecord: "alsa-utils",
  aplay: "alsa-utils",
  strace: "strace",
};

function cannotRun(cmd: string, err: NodeJS.ErrnoException): string {
  if (err.code !== "ENOENT") return `cannot run ${cmd}: ${err.message}`;
  const pkg = TOOL_PACKAGES[cmd];
  const install = pkg === undefined ? "" : ` (Debian: sudo apt-get install ${pkg})`;
  return `cannot run ${cmd}: no such program on PATH${install}`;
}

/** Runs the command on the board; resolves with the exit status to use. */
export function execOnBoard(args: ExecArgs): Promise<number> {
  const [cmd, ...rest] = args.command;
  if (cmd === undefined) {
    return Promise.reject(new ConfigError("exec needs a command after --"));
  }
  const env = { ...process.env, ...simEnv(args.options, process.env) };
  const child = spawn(cmd, rest, { env, stdio: "inherit" });
  const handlers = FORWARDED.map((sig) => {
    const h = (): void => {
      child.kill(sig);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return new Promise((resolve, reject) => {
    child.once("error", (err) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      reject(new CamgwError("exec", cannotRun(cmd, err), { command: cmd }, { cause: err }));
    });
    child.once("exit", (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      // a shell's convention for a child killed by a signal
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}

/** Entry point: returns the process exit status. */
export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === "exec") return await execOnBoard(parseExecArgs(rest));
    if (sub === "net") {
      const { netMain } = await import("./net/net-cli.js");
      return await netMain(rest);
    }
    if (sub === "up") {
      // loaded on demand: `up` pulls in the gateway and the probe, `exec` needs neither
      const { up } = await import("./up.js");
      return await up(rest);
    }
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
      process.stdout.write(`${USAGE}\n`);
      return sub === undefined ? 2 : 0;
    }
    throw new ConfigError(`unknown command "${sub}"`, { command: sub });
  } catch (err) {
    if (err instanceof CamgwError) {
      process.stderr.write(`firmware-sim: ${err.message}\n`);
      if (err instanceof ConfigError) process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    throw err;
  }
}
