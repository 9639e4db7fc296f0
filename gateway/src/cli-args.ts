import { parseArgs, type ParseArgsConfig } from "node:util";
import { KEYS, SCHEMA, envName, type Key } from "./config.js";
import { ConfigError } from "./errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Config keys that are switches: `--keep-warm` and `--no-keep-warm`. */
const BOOLEAN_KEYS = new Set<Key>(KEYS.filter((k) => typeof SCHEMA[k].default === "boolean"));

export interface ParsedRun {
  configFile: string | undefined;
  flags: Partial<Record<Key, string | boolean>>;
  help: boolean;
}

/** Every config key as a flag, plus --config and --help (for `camgw run` and the commands that share its config). */
export function configOptions(): Options {
  const options: Options = {
    config: { type: "string", short: "c" },
    help: { type: "boolean", short: "h" },
  };
  for (const key of KEYS) {
    if (BOOLEAN_KEYS.has(key)) {
      options[key] = { type: "boolean" };
      options[`no-${key}`] = { type: "boolean" };
    } else {
      options[key] = { type: "string" };
    }
  }
  return options;
}

/** Turns node's parseArgs errors into ConfigErrors a person can act on. */
export function parseOrExplain<T extends ParseArgsConfig>(
  config: T,
  command: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new ConfigError(`camgw ${command}: ${message} (see \`camgw ${command} --help\`)`, {
      command,
    });
  }
}

/** Parses `camgw run` arguments: every config key as a flag, plus --config. */
export function parseRunArgs(argv: string[]): ParsedRun {
  const { values } = parseOrExplain(
    { args: argv, options: configOptions(), strict: true, allowPositionals: false },
    "run",
  );
  return configFlags(values);
}

/** The config file and key flags out of parsed values (configOptions()). */
export function configFlags(
  values: Record<string, string | boolean | undefined | (string | boolean)[]>,
): ParsedRun {
  const flags: Partial<Record<Key, string | boolean>> = {};
  for (const key of KEYS) {
    const value = values[key];
    if (typeof value === "string" || typeof value === "boolean") flags[key] = value;
    if (BOOLEAN_KEYS.has(key) && values[`no-${key}`] === true) flags[key] = false;
  }
  const configFile = values.config;
  return {
    configFile: typeof configFile === "string" ? configFile : undefined,
    flags,
    help: values.help === true,
  };
}

/** The options section of `camgw run --help`, from the schema. */
export function runHelp(): string {
  const lines = KEYS.map((key) => {
    const spec = SCHEMA[key];
    const flag = BOOLEAN_KEYS.has(key) ? `--[no-]${key}` : `--${key} VALUE`;
    const def = "defaultText" in spec ? spec.defaultText : JSON.stringify(spec.default);
    return `  ${flag.padEnd(28)} ${spec.help} [${envName(key)}; default ${def}]`;
  });
  return [
    "Usage: camgw run [--config FILE] [--KEY VALUE ...]",
    "",
    "Every key may also be set in the YAML config file (as `key: value`) and in",
    "the environment (CAMGW_KEY); flags win over the environment, which wins",
    "over the file.",
    "",
    "  --config, -c FILE              YAML config file",
    ...lines,
  ].join("\n");
}
