/**
 * `camgw broker-config mosquitto --out DIR`: the password file, ACL and
 * config snippet that make an external Mosquitto enforce what the embedded
 * broker does (auth/mosquitto-files.ts), for this device and its viewers as
 * the state directory has them now. Run it again after `camgw viewer add` or
 * `remove`, then reload Mosquitto (docs/security.md).
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AccountStore } from "../auth/account-store.js";
import { deviceCredential } from "../auth/device-credential.js";
import { mosquittoFiles } from "../auth/mosquitto-files.js";
import { ensureStateDir, stateDirFrom } from "../auth/state-dir.js";
import { configFlags, configOptions, parseOrExplain } from "../cli-args.js";
import { loadConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { homeAssistantScope } from "../homeassistant/ha-scope.js";

export const BROKER_CONFIG_USAGE = `Usage: camgw broker-config mosquitto --out DIR [--listener "PORT [ADDRESS]"]
         [--certfile FILE --keyfile FILE] [--config FILE] [--KEY VALUE ...]

Writes DIR/passwd (the device and every viewer, as Mosquitto PBKDF2-SHA512
hashes), DIR/acl (each may use only its own topics) and DIR/camgw.conf (a
snippet for /etc/mosquitto/conf.d: no anonymous clients, packets up to 70 KB,
and a listener where client id = username; default port 8883, TLS with
--certfile/--keyfile, paths as the broker's host sees them). Takes the same
--config/--state-dir/--device-id/--prefix as camgw run. Run it again after
adding or removing a viewer, then restart Mosquitto. See docs/security.md.
`;

export async function brokerConfigCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOrExplain(
    {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...configOptions(),
        help: { type: "boolean", short: "h" },
        out: { type: "string" },
        listener: { type: "string" },
        certfile: { type: "string" },
        keyfile: { type: "string" },
      },
    },
    "broker-config",
  );
  if (values.help === true) {
    process.stdout.write(BROKER_CONFIG_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== "mosquitto") {
    throw new ConfigError(
      `camgw broker-config: the one broker it knows is "mosquitto"\n\n${BROKER_CONFIG_USAGE}`,
    );
  }
  if ((typeof values.certfile === "string") !== (typeof values.keyfile === "string")) {
    throw new ConfigError("camgw broker-config: --certfile and --keyfile go together");
  }
  if (typeof values.out !== "string" || values.out === "") {
    throw new ConfigError(`camgw broker-config needs --out DIR\n\n${BROKER_CONFIG_USAGE}`);
  }
  const parsed = configFlags(values);
  const config = loadConfig({ file: parsed.configFile, env: process.env, flags: parsed.flags });
  const stateDir = stateDirFrom(config["state-dir"]);
  await ensureStateDir(stateDir);
  const accounts = await AccountStore.open(stateDir);
  const out = resolve(values.out);
  const files = await mosquittoFiles({
    prefix: config.prefix,
    deviceId: config["device-id"],
    device: await deviceCredential(stateDir, config["device-id"]),
    viewers: accounts.passwordHashes(),
    homeAssistant: homeAssistantScope(config),
    dir: out,
    listener: listener(values.listener),
    ...(typeof values.certfile === "string" ? { certfile: values.certfile } : {}),
    ...(typeof values.keyfile === "string" ? { keyfile: values.keyfile } : {}),
  });
  // Mosquitto (user mosquitto) must enter the folder; the files are 0600.
  await mkdir(out, { recursive: true, mode: 0o755 });
  for (const [name, text] of [
    ["passwd", files.passwd],
    ["acl", files.acl],
    ["camgw.conf", files.conf],
  ] as const) {
    const temp = join(out, `.${name}.${process.pid}.tmp`);
    try {
      await writeFile(temp, text, { mode: 0o600, flag: "wx" });
      await rename(temp, join(out, name));
    } finally {
      await rm(temp, { force: true });
    }
  }
  process.stdout.write(
    `camgw: wrote ${out}/passwd, acl and camgw.conf for device ${config["device-id"]} and ${accounts.size} viewer(s).\n` +
      `  On the broker: sudo chown mosquitto: ${out}/passwd ${out}/acl; include ${out}/camgw.conf\n` +
      `  (e.g. copy it to /etc/mosquitto/conf.d/) and restart Mosquitto. Then run camgw with\n` +
      `  --broker mqtts://<broker>:<port> (the device logs in with its own secret from ${stateDir}).\n`,
  );
  return 0;
}

/** `--listener "PORT [ADDRESS]"`, checked; default 8883 on every address. */
function listener(raw: unknown): string {
  if (raw === undefined) return "8883";
  const m = typeof raw === "string" ? /^(\d{1,5})(?: ([0-9A-Fa-f.:]+))?$/.exec(raw.trim()) : null;
  const port = Number(m?.[1]);
  if (!m || port < 1 || port > 65535) {
    throw new ConfigError(
      `camgw broker-config --listener: expected "PORT [ADDRESS]", got ${JSON.stringify(raw)}`,
    );
  }
  return m[2] === undefined ? String(port) : `${port} ${m[2]}`;
}
