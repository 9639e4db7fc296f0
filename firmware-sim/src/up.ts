import { parseArgs } from "node:util";
import { ConfigError } from "../../gateway/src/errors.js";
import { formatReport, runProbe, type ProbeReport } from "../../gateway/src/probe/probe.js";
import { LOOPBACK_PROBE, startGateway } from "../../gateway/src/testing/gateway-process.js";
import { isSimProfile, isSimScene, type SimProfile, type SimScene } from "./sim-env.js";

export const UP_USAGE = `Usage: firmware-sim up [options] [-- camgw run options]

Boots a virtual board: starts the gateway (camgw run) with the virtual
devices preloaded, and prints where to point a browser. With --viewers N it
also starts N headless viewers (camgw probe) and reports what they saw.

  --profile pi4|pi5|uvc-h264   board profile (default pi4)
  --scene bars|realistic       what the camera films (default bars; realistic
                               costs encoders their whole bitrate)
  --faults SPEC                faults to inject (docs/firmware-sim.md)
  --seed N                     seed for the faults
  --control FILE               control file to change faults while running
  --viewers N                  headless viewers to start (default 0)
  --seconds N                  how long they watch (default 10)
  --exit                       stop once the viewers have reported

ICE stays on 127.0.0.1, for a browser on this machine; to watch from another
one, add its address: firmware-sim up -- --ice-host-addresses 192.168.1.20
`;

export interface UpArgs {
  profile: SimProfile;
  scene: SimScene;
  faults: string | undefined;
  seed: number | undefined;
  control: string | undefined;
  viewers: number;
  seconds: number;
  exit: boolean;
  gatewayArgs: string[];
  help: boolean;
}

export function parseUpArgs(argv: string[]): UpArgs {
  const split = argv.indexOf("--");
  const own = split < 0 ? argv : argv.slice(0, split);
  let values;
  try {
    ({ values } = parseArgs({
      args: own,
      strict: true,
      options: {
        profile: { type: "string" },
        scene: { type: "string" },
        faults: { type: "string" },
        seed: { type: "string" },
        control: { type: "string" },
        viewers: { type: "string" },
        seconds: { type: "string" },
        exit: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new ConfigError(`firmware-sim up: ${(err as Error).message}`);
  }
  const profile = values.profile ?? "pi4";
  if (!isSimProfile(profile))
    throw new ConfigError(`firmware-sim up: unknown profile "${profile}" (pi4, pi5, uvc-h264)`);
  const scene = values.scene ?? "bars";
  if (!isSimScene(scene))
    throw new ConfigError(`firmware-sim up: unknown scene "${scene}" (bars, realistic)`);
  return {
    profile,
    scene,
    faults: values.faults,
    seed: values.seed === undefined ? undefined : count("--seed", values.seed, 0),
    control: values.control,
    viewers: count("--viewers", values.viewers ?? "0", 0),
    seconds: count("--seconds", values.seconds ?? "10", 1),
    exit: values.exit === true,
    gatewayArgs: split < 0 ? [] : argv.slice(split + 1),
    help: values.help === true,
  };
}

function count(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new ConfigError(
      `firmware-sim up: ${flag} takes a whole number >= ${min}, got "${value}"`,
    );
  }
  return Number(value);
}

/** The viewers' reports as one table a person can read at a glance. */
export function summarize(reports: ProbeReport[]): string {
  const head = "viewer  video  first-frame  fps    freezes  lost  glass-to-glass p50/p95";
  const rows = reports.map((r, i) => {
    const g = r.glassToGlassMs;
    return [
      String(i + 1).padEnd(7),
      (r.video ? "yes" : "NO").padEnd(6),
      `${r.timeToFirstFrameMs ?? "-"} ms`.padEnd(12),
      String(r.fps).padEnd(6),
      String(r.freezes).padEnd(8),
      String(r.packetsLost).padEnd(5),
      g ? `${g.p50} / ${g.p95} ms` : "-",
    ].join(" ");
  });
  return [head, ...rows].join("\n") + "\n";
}

/** `firmware-sim up`: resolves with the exit code once the board is shut down. */
export async function up(argv: string[]): Promise<number> {
  const args = parseUpArgs(argv);
  if (args.help) {
    process.stdout.write(UP_USAGE);
    return 0;
  }
  const gateway = await startGateway({
    sim: {
      profile: args.profile,
      scene: args.scene,
      ...(args.faults ? { faults: args.faults } : {}),
      ...(args.seed === undefined ? {} : { seed: args.seed }),
      ...(args.control ? { controlFile: args.control } : {}),
    },
    args: args.gatewayArgs.length
      ? args.gatewayArgs
      : ["--http-port", "8080", "--mqtt-port", "1883"],
  });
  const stop = async (): Promise<number> => ((await gateway.stop()) === 0 ? 0 : 1);
  process.stdout.write(
    `firmware-sim: virtual ${args.profile} board up${args.faults ? ` with faults ${args.faults}` : ""}\n` +
      `firmware-sim: open ${gateway.httpUrl} in a browser; MQTT at ${gateway.mqttUrl ?? "(external broker)"}\n`,
  );
  const deviceId = /camgw: device [^/\s]+\/(\S+)/.exec(gateway.output())?.[1] ?? "";
  if (args.viewers > 0 && gateway.mqttUrl) {
    process.stdout.write(
      `firmware-sim: ${args.viewers} headless viewer(s) watching ${deviceId} for ${args.seconds} s\n`,
    );
    const reports = await Promise.all(
      Array.from({ length: args.viewers }, () =>
        runProbe({
          ...LOOPBACK_PROBE,
          broker: gateway.mqttUrl ?? "",
          deviceId,
          seconds: args.seconds,
          decode: args.viewers <= 4,
        }),
      ),
    );
    process.stdout.write(
      args.viewers === 1 && reports[0] ? formatReport(reports[0]) : summarize(reports),
    );
    if (args.exit) return stop();
  }
  process.stdout.write("firmware-sim: Ctrl-C stops the board\n");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
    gateway.child.once("exit", () => resolve());
  });
  return stop();
}
