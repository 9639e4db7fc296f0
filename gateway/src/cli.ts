import { stringify } from "yaml";
import { parseRunArgs, runHelp } from "./cli-args.js";
import { describeConfig, loadConfig } from "./config.js";
import { CamgwError, ConfigError } from "./errors.js";
import { brokerConfigCommand } from "./commands/broker-config.js";
import { devicesCommand } from "./commands/devices.js";
import { probeCommand } from "./commands/probe.js";
import { runCommand } from "./commands/run.js";
import { viewerCommand } from "./commands/viewer.js";
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
  camgw config [--config FILE] [--KEY VALUE ...]
                                                print the effective configuration
  camgw version                                 print the version
`;

/** Runs one CLI command; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await runCommand(rest);
      case "devices":
        return devicesCommand(rest);
      case "probe":
        return await probeCommand(rest);
      case "viewer":
        return await viewerCommand(rest);
      case "broker-config":
        return await brokerConfigCommand(rest);
      case "config": {
        const args = parseRunArgs(rest);
        const config = loadConfig({ file: args.configFile, env: process.env, flags: args.flags });
        process.stdout.write(stringify(describeConfig(config)));
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

export function reportError(err: unknown): number {
  if (err instanceof ConfigError || err instanceof TypeError) {
    process.stderr.write(`camgw: ${err.message}\n`);
    return 2;
  }
  if (err instanceof CamgwError || err instanceof Error) {
    process.stderr.write(`camgw: ${err.message}\n`);
    if (process.env.CAMGW_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
  process.stderr.write(`camgw: ${String(err)}\n`);
  return 1;
}

export { runHelp };
