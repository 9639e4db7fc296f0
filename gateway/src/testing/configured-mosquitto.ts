import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { CAMGW_BIN } from "./gateway-process.js";
import { Mosquitto } from "./mosquitto.js";

const run = promisify(execFile);

export interface ConfiguredMosquittoOptions {
  /** The gateway's state directory: the accounts and device secret broker-config reads. */
  stateDir: string;
  deviceId: string;
  /** The port the gateway was told (`--broker mqtt://127.0.0.1:<port>`). */
  port: number;
  /** Where broker-config writes camgw.conf, the password file and the ACL. */
  filesDir: string;
  /** More `camgw broker-config` flags (e.g. the Home Assistant keys). */
  extraArgs?: string[];
  /** Mosquitto's own working folder (default a fresh temp dir). */
  mosquittoDir?: string;
}

/**
 * Debian's Mosquitto set up the way docs/security.md tells a user to: with
 * the files `camgw broker-config mosquitto` writes for a gateway's state
 * directory, listening on 127.0.0.1:`port`.
 */
export async function startConfiguredMosquitto(
  options: ConfiguredMosquittoOptions,
): Promise<Mosquitto> {
  const { stateDir, deviceId, port, filesDir } = options;
  await run(process.execPath, [
    CAMGW_BIN,
    "broker-config",
    "mosquitto",
    "--out",
    filesDir,
    "--state-dir",
    stateDir,
    "--device-id",
    deviceId,
    "--listener",
    `${port} 127.0.0.1`,
    ...(options.extraArgs ?? []),
  ]);
  const settings = (await readFile(join(filesDir, "camgw.conf"), "utf8"))
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
  return Mosquitto.start({
    settings,
    plainPort: port,
    ...(options.mosquittoDir ? { dir: options.mosquittoDir } : {}),
  });
}
