/**
 * `firmware-sim net ...`: the network lab from a shell.
 *
 *   net up [flags]        builds a lab, prints where things are, stays up until Ctrl-C
 *   net set SPEC...       replaces a running lab's conditions (its control file)
 *   net change SPEC...    adds to them (later entries override earlier ones)
 *   net list              the labs running on this machine
 *   net sweep             removes labs whose owner died
 */
import { existsSync, readFileSync } from "node:fs";
import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CamgwError, ConfigError } from "../../../gateway/src/errors.js";
import { describeLab } from "./describe-lab.js";
import { NET_FLAGS, NET_USAGE, netOptionsFrom } from "./net-args.js";
import { startNetLab } from "./net-lab.js";
import { labDir, liveLabs, sweepStaleLabs } from "./registry.js";

export const NET_CLI_USAGE = `usage: firmware-sim net up [flags]          a lab until Ctrl-C (root)
       firmware-sim net set [--lab ID] SPEC...      replace a running lab's conditions
       firmware-sim net change [--lab ID] SPEC...   add to them
       firmware-sim net list | sweep               running labs | remove dead ones

SPEC is the control language, e.g. "board:loss=2%:delay=40ms", "board:down",
"board:address=192.168.1.23", "viewer1/down:rate=600kbit", "broker:delay=75ms".

${NET_USAGE}  --viewers N        viewer sites (default: one per --viewer-nat entry)
  --seed N           seed for the links' randomness (default 1)
`;

/** parseArgs' own errors ("Unknown option '--x'") as ConfigError. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function wholeNumber(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new ConfigError(`${flag} takes a whole number, got "${v}"`);
  return Number(v);
}

async function up(argv: string[]): Promise<number> {
  const { values } = parsed(() =>
    parseArgs({
      args: argv,
      strict: true,
      options: {
        ...NET_FLAGS,
        viewers: { type: "string" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }),
  );
  if (values.help) {
    process.stdout.write(NET_CLI_USAGE);
    return 0;
  }
  const lab = await startNetLab({
    ...netOptionsFrom(values, wholeNumber("--viewers", values.viewers, 0)),
    seed: wholeNumber("--seed", values.seed, 1),
  });
  process.stdout.write(describeLab(lab) + "firmware-sim net: Ctrl-C removes the lab\n");
  // Signal handlers alone do not keep Node running.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
    process.once("SIGHUP", resolve);
  });
  clearInterval(keepAlive);
  await lab.close();
  process.stdout.write(`firmware-sim net: lab ${lab.id} removed\n`);
  return 0;
}

function findLab(id: string | undefined): string {
  if (id) {
    if (!existsSync(join(labDir(id), "control"))) throw new ConfigError(`no running lab "${id}"`);
    return labDir(id);
  }
  const labs = liveLabs();
  if (labs.length === 1 && labs[0]) return labDir(labs[0].id);
  throw new ConfigError(
    labs.length === 0
      ? "no network lab is running (firmware-sim net up)"
      : `several labs are running, name one with --lab: ${labs.map((l) => l.id).join(", ")}`,
  );
}

/** Writes the control file and waits for the lab's verdict on it. */
async function control(argv: string[], append: boolean): Promise<number> {
  const { values, positionals } = parsed(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { lab: { type: "string" } },
    }),
  );
  if (positionals.length === 0)
    throw new ConfigError(`firmware-sim net ${append ? "change" : "set"} needs a SPEC`);
  const dir = findLab(values.lab);
  const file = join(dir, "control");
  const spec = positionals.join("\n") + "\n";
  const before = readFileSync(file, "utf8");
  const text = append ? before + (before === "" || before.endsWith("\n") ? "" : "\n") + spec : spec;
  await (append ? appendFile(file, text.slice(before.length)) : writeFile(file, text));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const status = JSON.parse(readFileSync(join(dir, "control.status"), "utf8")) as {
        text: string;
        ok: boolean;
        error?: string;
      };
      if (status.text === text) {
        if (status.ok) return 0;
        // The lab kept its conditions: so does the file, or the next change would fail too.
        await writeFile(file, before);
        process.stderr.write(`firmware-sim net: ${status.error ?? "refused"}\n`);
        return 1;
      }
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stderr.write("firmware-sim net: the lab did not answer (is its owner running?)\n");
  return 1;
}

/** `firmware-sim net ...`: returns the exit status; errors are printed with a pointer to --help. */
export async function netMain(argv: string[]): Promise<number> {
  try {
    return await netCommand(argv);
  } catch (err) {
    if (!(err instanceof CamgwError)) throw err;
    process.stderr.write(
      `firmware-sim net: ${err.message}\n` +
        (err instanceof ConfigError ? "(firmware-sim net --help)\n" : ""),
    );
    return 2;
  }
}

async function netCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "up":
      return up(rest);
    case "set":
      return control(rest, false);
    case "change":
      return control(rest, true);
    case "list":
      for (const lab of liveLabs())
        process.stdout.write(`${lab.id}  owner pid ${lab.ownerPid}  ${labDir(lab.id)}\n`);
      return 0;
    case "sweep": {
      const removed = await sweepStaleLabs();
      process.stdout.write(removed.length ? `removed ${removed.join(", ")}\n` : "no stale labs\n");
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(NET_CLI_USAGE);
      return sub === undefined ? 2 : 0;
    default:
      throw new ConfigError(`unknown command "net ${sub}"`);
  }
}
