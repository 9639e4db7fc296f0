import { parseArgs } from "node:util";
import { ConfigError } from "../../gateway/src/errors.js";
import { formatReport, runProbe, type ProbeReport } from "../../gateway/src/probe/probe.js";
import {
  GatewayStartFailed,
  probeLogin,
  startGateway,
  type GatewayProcess,
} from "../../gateway/src/testing/gateway-process.js";
import { describeLab } from "./net/describe-lab.js";
import { NET_FLAGS, NET_USAGE, netOptionsFrom, wantsLab } from "./net/net-args.js";
import { startNetLab, type IceChoice, type NetLab, type NetLabOptions } from "./net/net-lab.js";
import {
  isSimProfile,
  isSimScene,
  type SimOptions,
  type SimProfile,
  type SimScene,
} from "./sim-env.js";

export const UP_USAGE = `Usage: firmware-sim up [options] [-- camgw run options]

Boots a virtual board: starts the gateway (camgw run) with the virtual
devices preloaded, and prints where to point a browser. With --viewers N it
also starts N headless viewers (camgw probe) and reports what they saw.

  --profile pi4|pi5|uvc-h264   board profile (default pi4)
  --scene bars|realistic       what the camera films (default bars; realistic
                               costs encoders their whole bitrate)
  --faults SPEC                faults to inject (docs/firmware-sim.md)
  --seed N                     seed for the faults (and the network lab's links)
  --control FILE               control file to change faults while running
  --viewers N                  headless viewers to start (default 0)
  --seconds N                  how long they watch (default 10)
  --exit                       stop once the viewers have reported
  --net                        run in the network lab (implied by its flags below):
                               the gateway on the board's host, each viewer on a
                               viewer site of its own, signaling through the lab's
                               broker, ICE servers from the lab's coturn
  --ice LIST                   the lab's ICE servers for the gateway, which gives the
                               viewers theirs: stun, turn (the client picks UDP or
                               TCP), turn-udp, turn-tcp, turns (default stun,turn-udp)

${NET_USAGE}
Without the lab, ICE stays on 127.0.0.1, for a browser on this machine; to
watch from another one, add its address: firmware-sim up -- --ice-host-addresses 192.168.1.20
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
  /** The network lab to run in, or null (loopback). */
  net: NetLabOptions | null;
  /** The lab's ICE servers the gateway and the viewers use. */
  ice: IceChoice[];
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
        net: { type: "boolean" },
        ice: { type: "string" },
        ...NET_FLAGS,
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
  const viewers = count("--viewers", values.viewers ?? "0", 0);
  const seed = values.seed === undefined ? undefined : count("--seed", values.seed, 0);
  let net: NetLabOptions | null = null;
  const ice = iceChoices(values.ice ?? "stun,turn-udp");
  if (values.net === true || values.ice !== undefined || wantsLab(values)) {
    try {
      net = { ...netOptionsFrom(values, Math.max(1, viewers)), seed: seed ?? 1 };
    } catch (err) {
      throw new ConfigError(`firmware-sim up: ${(err as Error).message}`);
    }
  }
  return {
    profile,
    scene,
    faults: values.faults,
    seed,
    control: values.control,
    viewers,
    seconds: count("--seconds", values.seconds ?? "10", 1),
    exit: values.exit === true,
    net,
    ice,
    gatewayArgs: split < 0 ? [] : argv.slice(split + 1),
    help: values.help === true,
  };
}

const ICE_CHOICES: readonly IceChoice[] = ["stun", "turn", "turn-udp", "turn-tcp", "turns"];

function iceChoices(list: string): IceChoice[] {
  return list
    .split(",")
    .filter(Boolean)
    .map((c) => {
      if (!(ICE_CHOICES as readonly string[]).includes(c)) {
        throw new ConfigError(`firmware-sim up: --ice takes ${ICE_CHOICES.join(", ")}, got "${c}"`);
      }
      return c as IceChoice;
    });
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
  const head = "viewer  video  first-frame  fps    freezes  lost  glass-to-glass p50/p95  ICE pair";
  const rows = reports.map((r, i) => {
    const g = r.glassToGlassMs;
    const pair = r.candidatePair;
    return [
      String(i + 1).padEnd(7),
      (r.video ? "yes" : "NO").padEnd(6),
      `${r.timeToFirstFrameMs ?? "-"} ms`.padEnd(12),
      String(r.fps).padEnd(6),
      String(r.freezes).padEnd(8),
      String(r.packetsLost).padEnd(5),
      (g ? `${g.p50} / ${g.p95} ms` : "-").padEnd(23),
      pair ? `${pair.local.type} -> ${pair.remote.type}/${pair.remote.protocol}` : "-",
    ].join(" ");
  });
  return [head, ...rows].join("\n") + "\n";
}

/** Where the board runs: on loopback, or in a network lab. */
interface Board {
  gateway: GatewayProcess;
  lab: NetLab | null;
  watch(viewers: number, deviceId: string, seconds: number): Promise<ProbeReport[]>;
}

async function bootBoard(args: UpArgs, sim: SimOptions): Promise<Board> {
  if (!args.net) {
    const gateway = await startGateway({
      sim,
      args: args.gatewayArgs.length
        ? args.gatewayArgs
        : ["--http-port", "8080", "--mqtt-port", "1883"],
    });
    return {
      gateway,
      lab: null,
      // One viewer account per watching probe, as each person has theirs
      // (a viewer may hold two sessions at once, docs/security.md).
      watch: async (n, deviceId, seconds) => {
        const logins = await Promise.all(
          Array.from({ length: n }, (_, i) => gateway.addViewer(`viewer${i + 1}`)),
        );
        return Promise.all(
          logins.map((login) =>
            runProbe({ ...probeLogin(gateway, login), deviceId, seconds, decode: n <= 4 }),
          ),
        );
      },
    };
  }
  const lab = await startNetLab(args.net);
  try {
    const ice = lab.turn ? lab.gatewayIce(args.ice) : { args: [], env: {} };
    // The viewers get their ICE servers (and TURN credentials) from the gateway.
    const gateway = await lab.startGateway({
      sim,
      env: ice.env,
      args: [...ice.args, "--http-port", "8080", ...args.gatewayArgs],
    });
    return {
      gateway,
      lab,
      watch: (n, deviceId, seconds) =>
        Promise.all(
          lab.viewers.slice(0, n).map((v) =>
            lab.probe(v.name, {
              deviceId,
              seconds,
              args: n <= 4 ? [] : ["--no-decode"],
            }),
          ),
        ),
    };
  } catch (err) {
    await lab.close();
    throw err;
  }
}

/** `firmware-sim up`: resolves with the exit code once the board is shut down. */
export async function up(argv: string[]): Promise<number> {
  const args = parseUpArgs(argv);
  if (args.help) {
    process.stdout.write(UP_USAGE);
    return 0;
  }
  let board: Board;
  try {
    board = await bootBoard(args, {
      profile: args.profile,
      scene: args.scene,
      ...(args.faults ? { faults: args.faults } : {}),
      ...(args.seed === undefined ? {} : { seed: args.seed }),
      ...(args.control ? { controlFile: args.control } : {}),
    });
  } catch (err) {
    if (!(err instanceof GatewayStartFailed)) throw err;
    // camgw's own lines say what went wrong (a port taken names its flag);
    // add how its flags get here, instead of a stack trace.
    process.stderr.write(
      `${err.output.trimEnd()}\n` +
        "firmware-sim up: the gateway did not start. Its options go after --: " +
        "firmware-sim up -- --http-port 8081 --mqtt-port 1884 (make sim ARGS='-- --http-port 8081 --mqtt-port 1884')\n",
    );
    return 1;
  }
  const { gateway, lab } = board;
  const stop = async (): Promise<number> => {
    const code = await gateway.stop();
    await lab?.close();
    return code === 0 ? 0 : 1;
  };
  process.stdout.write(
    `firmware-sim: virtual ${args.profile} board up${args.faults ? ` with faults ${args.faults}` : ""}\n`,
  );
  if (lab) {
    process.stdout.write(
      describeLab(lab) +
        `firmware-sim: the gateway runs on the board's host (${lab.address("board")}), port 8080 there; ` +
        `signaling through ${lab.broker?.mqttUrl ?? "its embedded broker"}\n`,
    );
  } else {
    process.stdout.write(
      // The board's state directory is a fresh one: this link is the only way in.
      `firmware-sim: open ${gateway.ownerLink} in a browser (it logs in as the board's owner); ` +
        `MQTT at ${gateway.mqttUrl ?? "(external broker)"}\n`,
    );
  }
  const deviceId = /camgw: device [^/\s]+\/(\S+)/.exec(gateway.output())?.[1] ?? "";
  if (args.viewers > 0 && (gateway.mqttUrl || lab?.broker)) {
    process.stdout.write(
      `firmware-sim: ${args.viewers} headless viewer(s) watching ${deviceId} for ${args.seconds} s\n`,
    );
    const reports = await board.watch(args.viewers, deviceId, args.seconds);
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
