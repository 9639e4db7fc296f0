/**
 * `camgw viewer add|list|remove`: the viewer accounts in the state
 * directory. They take the same --config/--state-dir (and every other key)
 * as `camgw run`, and work while the gateway runs: it watches the accounts
 * file, lets a new viewer in at once and throws a removed one out, sessions
 * and MQTT connections alike.
 */
import { AccountStore, viewerNameProblem } from "../auth/account-store.js";
import { ensureStateDir, stateDirFrom } from "../auth/state-dir.js";
import { loadTlsMaterial } from "../auth/tls-material.js";
import { configFlags, configOptions, parseOrExplain } from "../cli-args.js";
import { loadConfig, type Config } from "../config.js";
import { ConfigError } from "../errors.js";
import { formatPairing, pairingJson, placesFromConfig } from "./pairing-output.js";

export const VIEWER_USAGE = `Usage:
  camgw viewer add NAME [--json] [--replace]   make a viewer; prints its pairing link once
  camgw viewer list [--json]                   the viewers, by name
  camgw viewer remove NAME                     shut a viewer out (its sessions end at once)

Each takes the same --config FILE and --KEY VALUE flags as camgw run (state-dir,
http-port, https-port, listen, tls-cert, ...), so it finds the same accounts and
prints links to the same pages. A running gateway picks the change up by itself.

  --json      print one JSON object (add: name, username, password, token, url,
              localUrl, fingerprint; list: {"viewers": [{name, created}]})
  --replace   add: give an existing viewer new credentials (the old ones stop working)
`;

/** `camgw viewer ...` */
export async function viewerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOrExplain(
    {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...configOptions(),
        help: { type: "boolean", short: "h" },
        json: { type: "boolean" },
        replace: { type: "boolean" },
      },
    },
    "viewer",
  );
  if (values.help === true) {
    process.stdout.write(VIEWER_USAGE);
    return 0;
  }
  const parsed = configFlags(values);
  const config = loadConfig({ file: parsed.configFile, env: process.env, flags: parsed.flags });
  const [action, name, ...extra] = positionals;
  const json = values.json === true;
  if (extra.length > 0)
    throw new ConfigError(`camgw viewer: unexpected "${extra.join(" ")}"\n\n${VIEWER_USAGE}`);
  const needsName = (): string => {
    if (name === undefined)
      throw new ConfigError(`camgw viewer ${action ?? ""} needs a NAME\n\n${VIEWER_USAGE}`);
    return name;
  };
  switch (action) {
    case "add":
      return add(config, needsName(), json, values.replace === true);
    case "list":
      if (name !== undefined)
        throw new ConfigError(`camgw viewer list takes no NAME\n\n${VIEWER_USAGE}`);
      return list(config, json);
    case "remove":
      return remove(config, needsName());
    default:
      throw new ConfigError(
        `camgw viewer: ${action === undefined ? "say what to do" : `unknown action "${action}"`}\n\n${VIEWER_USAGE}`,
      );
  }
}

async function openStore(config: Config): Promise<AccountStore> {
  const dir = stateDirFrom(config["state-dir"]);
  await ensureStateDir(dir);
  return AccountStore.open(dir);
}

async function add(config: Config, name: string, json: boolean, replace: boolean): Promise<number> {
  const problem = viewerNameProblem(name);
  if (problem !== undefined) throw new ConfigError(`camgw viewer add: ${problem}`);
  const store = await openStore(config);
  // The certificate the gateway serves (made now if the gateway never ran), for its fingerprint.
  const tls = await loadTlsMaterial({
    stateDir: store.dir,
    ...(config["tls-cert"] ? { certFile: config["tls-cert"] } : {}),
    ...(config["tls-key"] ? { keyFile: config["tls-key"] } : {}),
  });
  const viewer = await store.add(name, { replace });
  const places = placesFromConfig(config, tls);
  if (json) {
    process.stdout.write(JSON.stringify(pairingJson(viewer, places)) + "\n");
  } else {
    process.stdout.write(
      `camgw: viewer "${name}" ${replace ? "has new credentials" : "added"} (in ${store.dir}).\n` +
        formatPairing(viewer, places),
    );
  }
  return 0;
}

async function list(config: Config, json: boolean): Promise<number> {
  const store = await openStore(config);
  const viewers = store.list();
  if (json) {
    process.stdout.write(JSON.stringify({ viewers }) + "\n");
  } else if (viewers.length === 0) {
    process.stdout.write(
      `camgw: no viewers in ${store.dir}; add one with \`camgw viewer add NAME\`\n`,
    );
  } else {
    for (const v of viewers) process.stdout.write(`${v.name.padEnd(24)} added ${v.created}\n`);
  }
  return 0;
}

async function remove(config: Config, name: string): Promise<number> {
  const store = await openStore(config);
  if (!(await store.remove(name))) {
    process.stderr.write(`camgw: no viewer named "${name}" in ${store.dir}\n`);
    return 1;
  }
  process.stdout.write(
    `camgw: viewer "${name}" removed; a running gateway ends its sessions now.\n`,
  );
  return 0;
}
