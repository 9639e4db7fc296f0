import { spawn } from "node:child_process";
import { constants } from "node:os";
import { join } from "node:path";
import { Gateway } from "../app.js";
import { parseRunArgs, runHelp } from "../cli-args.js";
import { loadConfig, SCHEMA, type Config } from "../config.js";
import { ConfigError } from "../errors.js";
import { createLogger, type Logger } from "../logger.js";
import { findUp } from "../paths.js";
import { ServiceNotifier } from "../service-notifier.js";
import { onVirtualBoard, resolveAutoSource } from "../source-factory.js";
import { formatPairing, type PairingPlaces } from "./pairing-output.js";

/** `camgw run`: start the gateway and serve until SIGINT/SIGTERM. */
export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (args.help) {
    process.stdout.write(runHelp() + "\n");
    return 0;
  }
  const config = loadConfig({ file: args.configFile, env: process.env, flags: args.flags });
  const log = createLogger(config["log-level"]);
  if (!onVirtualBoard() && wantsVirtualBoard(config, log))
    return reexecOnVirtualBoard(config, argv, log);

  // systemd sets JOURNAL_STREAM when stdout is the journal: secrets never go
  // to a log, so a service's first start makes no viewer (its log says how).
  const toJournal = process.env.JOURNAL_STREAM !== undefined;
  const gateway = await Gateway.start(config, log, { createFirstViewer: !toJournal });
  const where = gateway.addresses;
  if (where) {
    const tls = gateway.tls;
    const out = (line: string): boolean => process.stdout.write(`camgw: ${line}\n`);
    // Scripts and tests read these lines to find the ports (port 0 picks free ones).
    out(`viewer at ${where.http} (this computer)`);
    out(`viewer at ${where.https} (your network; TLS certificate SHA-256 ${tls.fingerprint})`);
    if (where.httpsAlso.length > 0) out(`  also at ${where.httpsAlso.join(", ")}`);
    if (where.mqtt) {
      out(
        `embedded MQTT broker at ${where.mqtt} (WebSocket at ${where.http.replace(/^http:/, "ws:")}mqtt), over TLS at ${where.mqtts ?? "-"}`,
      );
    }
    if (!where.mqtt && /^mqtts?:/.test(config.broker)) {
      // The URL's host and port only: a password in it never goes to the terminal.
      const broker = new URL(config.broker);
      out(
        `external MQTT broker ${broker.protocol}//${broker.host}, bridged for the page at ${where.http.replace(/^http:/, "ws:")}mqtt`,
      );
    }
    if (config["allow-plain-lan"]) {
      log.warn(
        `allow-plain-lan: plain HTTP and MQTT are served on ${config.listen}; anyone on that network can read logins and signaling there`,
      );
    }
    const places: PairingPlaces = {
      local: where.http,
      lan: where.https,
      fingerprint: tls.fingerprint,
      selfSigned: tls.origin === "self-signed",
    };
    if (gateway.firstViewer) {
      out(`first start: made the viewer "owner" (accounts in ${gateway.stateDir}).`);
      process.stdout.write(formatPairing(gateway.firstViewer, places));
    } else {
      const names = gateway.accounts.list().map((v) => v.name);
      out(
        names.length === 0
          ? `no viewers yet: add one with \`camgw viewer add NAME\` (it prints a link that logs in)`
          : `viewers: ${names.join(", ")}; \`camgw viewer add NAME\` prints a new pairing link`,
      );
    }
    // The id is what `camgw probe ID` and viewer links take: say where it came from.
    const id = config["device-id"];
    const idNote =
      id === SCHEMA["device-id"].default
        ? ` (id "${id}" is the host name; --device-id sets it)`
        : "";
    const encoder = gateway.source.encoder;
    out(`encoder: ${encoder ?? "none of camgw's (the source command gives H.264)"}`);
    out(`device ${config.prefix}/${id} from ${gateway.source.name}${idNote}`);
  }
  const service = new ServiceNotifier(log);
  service.ready(`serving ${config.prefix}/${config["device-id"]}`);
  const signal = await firstStopSignal();
  log.info(`${signal}: shutting down`);
  service.stopping();
  await gateway.close();
  return 0;
}

/**
 * Resolves on the first SIGINT or SIGTERM and keeps ignoring later ones:
 * Ctrl-C reaches every process of the terminal's group, and on the virtual
 * board the parent camgw and firmware-sim forward it once more each, so this
 * process gets up to three. Default handling of a second one would kill it
 * mid-shutdown and `make run` would end in "Error 130".
 */
function firstStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => resolve(signal);
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** A shell's exit status for a child ended by a signal (128 + its number), as firmware-sim exec gives it. */
const STATUS_SIGNALS = new Map<number, NodeJS.Signals>([
  [128 + constants.signals.SIGINT, "SIGINT"],
  [128 + constants.signals.SIGTERM, "SIGTERM"],
]);

function wantsVirtualBoard(config: Config, log: Logger): boolean {
  if (config.source.kind === "sim") return true;
  if (config.source.kind !== "auto") return false;
  if (resolveAutoSource() !== "sim") return false;
  log.info(
    `no camera found: using the virtual board (firmware-sim, profile ${config["sim-profile"]})`,
  );
  return true;
}

/** firmware-sim's CLI, beside gateway/ in the repository and in /opt/camgw. */
function firmwareSimBin(): string {
  const bin = join("firmware-sim", "bin", "firmware-sim.js");
  const root = findUp(bin);
  if (!root) {
    throw new ConfigError(
      "the virtual board (firmware-sim) is not installed here; use --source v4l2:/dev/videoN or pipe:<command>",
    );
  }
  return join(root, bin);
}

/**
 * Runs this same command again on the virtual board: firmware-sim preloads
 * its device library, which must be in place before the process starts.
 */
function reexecOnVirtualBoard(config: Config, argv: string[], log: Logger): Promise<number> {
  const script = process.argv[1];
  if (!script) throw new ConfigError("cannot find the camgw script to run on the virtual board");
  const simArgs = ["exec", "--profile", config["sim-profile"], "--scene", config["sim-scene"]];
  if (config["sim-faults"]) simArgs.push("--faults", config["sim-faults"]);
  const child = spawn(
    process.execPath,
    [
      firmwareSimBin(),
      ...simArgs,
      "--",
      process.execPath,
      ...process.execArgv,
      script,
      "run",
      ...argv,
    ],
    { stdio: "inherit" },
  );
  let stopAsked = false;
  const forward = (signal: NodeJS.Signals) => () => {
    stopAsked = true;
    child.kill(signal);
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return new Promise((resolve) => {
    child.once("error", (err) => {
      log.error(`cannot start the virtual board: ${err.message}`);
      resolve(1);
    });
    child.once("exit", (code, signal) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      // Ctrl-C reaches all three processes, and this one and firmware-sim
      // forward it once more each. A camgw whose shutdown is quick (nothing
      // to close with the broker down) can get the last of them while Node
      // 20 tears down, its handlers gone, and end by it: firmware-sim then
      // says 130. It had already shut down as asked, so that is a clean stop
      // (or `make run` ends in "Error 130").
      const bySignal = code === null ? signal : (STATUS_SIGNALS.get(code) ?? null);
      if (stopAsked && (bySignal === "SIGINT" || bySignal === "SIGTERM")) resolve(0);
      else resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
