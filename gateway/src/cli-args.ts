import { parseArgs, type ParseArgsConfig } from "node:util";
import { KEYS, SCHEMA, envName, type Key } from "./config.js";
import { ConfigError } from "./errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Config keys that are switches: `--keep-warm` and `--no-keep-warm`. */
const BOOLEAN_KEYS = new Set<Key>(KEYS.filter((k) => typeof SCHEMA[k].default === "boolean"));

/** Config keys that are no flags (secrets: a flag's value shows in `ps`). */
const FILE_OR_ENV_KEYS = new Set<Key>(
  KEYS.filter((k) => (SCHEMA[k] as { noFlag?: boolean }).noFlag === true),
);

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
    if (FILE_OR_ENV_KEYS.has(key)) continue;
    if (BOOLEAN_KEYS.has(key)) {
      options[key] = { type: "boolean" };
      options[`no-${key}`] = { type: "boolean" };
    } else {
      options[key] = { type: "string" };
    }
  }
  return options;
}

/** Levenshtein distance: how many one-character edits turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known option closest to a mistyped one, when it is close enough to be
 * what was meant: at most a third of its letters wrong, or a prefix of it.
 */
export function closestOption(typed: string, known: readonly string[]): string | undefined {
  const name = typed.replace(/^-+/, "").replace(/=.*$/, "");
  if (name === "") return undefined;
  let best: { option: string; distance: number } | undefined;
  for (const option of known) {
    const distance = option.startsWith(name) ? 1 : editDistance(name, option);
    if (!best || distance < best.distance) best = { option, distance };
  }
  if (!best || best.distance > Math.max(1, Math.floor(name.length / 3))) return undefined;
  return best.option;
}

/**
 * node's parseArgs takes `--bitrate -5` for a flag without its value
 * ("argument is ambiguous"). A value that looks like a negative number is
 * meant as the value: join it (`--bitrate=-5`) so the flag's own check
 * reports what range is allowed.
 */
function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const takesValue = (arg: string): boolean => {
    if (arg.startsWith("--")) return options[arg.slice(2)]?.type === "string";
    if (/^-[A-Za-z]$/.test(arg)) {
      return Object.values(options).some((o) => o.short === arg.slice(1) && o.type === "string");
    }
    return false;
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const next = args[i + 1];
    if (next !== undefined && /^-\.?\d/.test(next) && takesValue(arg)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Turns node's parseArgs errors into ConfigErrors a person can act on. */
export function parseOrExplain<T extends ParseArgsConfig>(
  config: T,
  command: string,
): ReturnType<typeof parseArgs<T>> {
  const options = config.options ?? {};
  const args = joinNegativeValues(config.args ?? [], options);
  try {
    // Only `args` differs from `config`, so the result has T's shape.
    return parseArgs({ ...config, args }) as ReturnType<typeof parseArgs<T>>;
  } catch (err) {
    const help = `see \`camgw ${command} --help\``;
    const code = (err as { code?: unknown }).code;
    const unknown = /Unknown option '([^']+)'/.exec((err as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== undefined) {
      const closest = closestOption(unknown, Object.keys(options));
      const hint = closest === undefined ? "" : `; did you mean --${closest}?`;
      throw new ConfigError(`camgw ${command}: unknown option ${unknown}${hint} (${help})`, {
        command,
        option: unknown,
      });
    }
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new ConfigError(`camgw ${command}: ${message} (${help})`, { command });
  }
}

/** Parses `camgw run` arguments: every config key as a flag, plus --config. */
export function parseRunArgs(argv: string[]): ParsedRun {
  for (const key of FILE_OR_ENV_KEYS) {
    if (argv.some((a) => a === `--${key}` || a.startsWith(`--${key}=`))) {
      throw new ConfigError(
        `camgw run: --${key} is not a flag (its value would show in ps): put it in the config file or ${envName(key)}`,
        { command: "run", option: `--${key}` },
      );
    }
  }
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
  const rows = KEYS.map((key) => {
    const spec = SCHEMA[key];
    const flag = FILE_OR_ENV_KEYS.has(key)
      ? `(${key}: file or env)`
      : BOOLEAN_KEYS.has(key)
        ? `--[no-]${key}`
        : `--${key} VALUE`;
    const def = "defaultText" in spec ? spec.defaultText : JSON.stringify(spec.default);
    return [flag, `${spec.help} [${envName(key)}; default ${def}]`] as const;
  });
  // The flag column fits the longest flag, so every description starts in one column.
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const line = (flag: string, text: string): string => `  ${flag.padEnd(width)}  ${text}`;
  const lines = rows.map(([flag, text]) => line(flag, text));
  return [
    "Usage: camgw run [--config FILE] [--KEY VALUE ...]",
    "",
    "Every key may also be set in the YAML config file (as `key: value`) and in",
    "the environment (CAMGW_KEY); flags win over the environment, which wins",
    "over the file.",
    "",
    line("--config, -c FILE", "YAML config file (`camgw config > FILE` writes one)"),
    line("--help, -h", "This help"),
    ...lines,
  ].join("\n");
}
