import { parseRunArgs, runHelp } from "./cli-args.js";
import { configYaml, loadConfig } from "./config.js";
import { CamgwError, ConfigError } from "./errors.js";
import { VERSION } from "./version.js";

const USAGE = `camgw ${VERSION}: a low-latency WebRTC camera gateway

Usage:
  camgw run [--config FILE] [--KEY VALUE ...]   stream the camera (see camgw run --help)
  camgw devices [--json]                        list cameras and encoders
  camgw viewer add NAME [--json] | list | remove NAME
                                                viewer accounts (see camgw viewer --help)
  camgw broker-config mosquitto --out DIR       files for an external Mosquitto
  camgw probe DEVICE_ID [--broker URL] [--pair LINK] [--seconds N] [--json]
                                                watch a camera headlessly and report
  camgw snapshot [--url URL] [--token T | --pair LINK] [--width N] [--out FILE]
                                                save a JPEG of the camera's picture
  camgw config [--config FILE] [--KEY VALUE ...]
                                                print the effective configuration
  camgw version                                 print the version
`;

/** Runs one CLI command; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      // Each command loads what it needs only when it runs: `run` pulls in
      // werift and the broker, which would make `camgw version` take seconds.
      case "run":
        return await (await import("./commands/run.js")).runCommand(rest);
      case "devices":
        return (await import("./commands/devices.js")).devicesCommand(rest);
      case "probe":
        return await (await import("./commands/probe.js")).probeCommand(rest);
      case "snapshot":
        return await (await import("./commands/snapshot.js")).snapshotCommand(rest);
      case "viewer":
        return await (await import("./commands/viewer.js")).viewerCommand(rest);
      case "broker-config":
        return await (await import("./commands/broker-config.js")).brokerConfigCommand(rest);
      case "config": {
        const args = parseRunArgs(rest);
        const config = loadConfig({ file: args.configFile, env: process.env, flags: args.flags });
        process.stdout.write(configYaml(config));
        return 0;
      }
      case "version":
      case "--version":
        process.stdout.write(`${VERSION}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new ConfigError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    return reportError(err);
  }
}

/** "camgw: " before a message, unless it already names the command ("camgw run: ..."). */
function withProgram(message: string): string {
  return /^camgw[ :]/.test(message) ? message : `camgw: ${message}`;
}

export function reportError(err: unknown): number {
  if (err instanceof ConfigError || err instanceof TypeError) {
    process.stderr.write(`${withProgram(err.message)}\n`);
    return 2;
  }
  if (err instanceof CamgwError || err instanceof Error) {
    process.stderr.write(`${withProgram(err.message)}\n`);
    if (process.env.CAMGW_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
  process.stderr.write(`camgw: ${String(err)}\n`);
  return 1;
}

export { runHelp };
