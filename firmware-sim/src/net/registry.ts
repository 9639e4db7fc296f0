/**
 * Which labs exist on this machine and who owns them. Several labs may run
 * at once (other developers' tests): every lab's namespaces start with its
 * id, `cgl-<owner pid>-<random>`, and a lab is only ever removed by its
 * owner, its reaper, or a sweep that found its owner dead.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where labs keep their files (control file, certificates, logs). */
export function labsRoot(): string {
  return process.env.CAMGW_NETLAB_DIR ?? join(tmpdir(), "camgw-netlab");
}

const NETNS_DIR = "/run/netns";
const ID_PATTERN = /^(cgl-(\d+)-[0-9a-z]+)(?:-|$)/;

/** What a lab writes down about itself before it creates anything. */
export interface LabRecord {
  id: string;
  ownerPid: number;
  /** The owner's start time (/proc/PID/stat field 22), so a reused pid is not mistaken for it. */
  ownerStart: string | null;
  namespaces: string[];
  /** The reaper watching the owner (written once it runs). */
  reaperPid?: number;
}

export function newLabId(): string {
  return `cgl-${process.pid}-${randomBytes(3).toString("hex")}`;
}

export function labDir(id: string): string {
  return join(labsRoot(), id);
}

/** A process's start time in clock ticks since boot, or null if it is gone. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count fields after its ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** True while the process that made the record still runs. */
export function ownerAlive(pid: number, start: string | null): boolean {
  const now = processStart(pid);
  return now !== null && (start === null || now === start);
}

export async function writeRecord(dir: string, record: LabRecord): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "lab.json"), JSON.stringify(record, null, 2) + "\n");
}

export function readRecord(dir: string): LabRecord | null {
  try {
    return JSON.parse(readFileSync(join(dir, "lab.json"), "utf8")) as LabRecord;
  } catch {
    return null;
  }
}

/** Named network namespaces on this machine. */
export function listNamespaces(): string[] {
  return existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR) : [];
}

function ip(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("ip", args, { encoding: "utf8" }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function pidsIn(ns: string): Promise<number[]> {
  const r = await ip(["netns", "pids", ns]);
  return r.stdout
    .split("\n")
    .filter((l) => /^\d+$/.test(l))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Ends every process inside the namespaces (SIGTERM, then SIGKILL after
 * `graceMs`), deletes the namespaces (their veths, TUN devices and nft
 * tables go with them) and removes the lab's folder.
 */
export async function removeLab(
  id: string,
  namespaces: readonly string[],
  dir = labDir(id),
  graceMs = 3000,
): Promise<void> {
  const present = new Set(listNamespaces());
  const mine = namespaces.filter((ns) => present.has(ns) && ns.startsWith(`${id}-`));
  const pids = (await Promise.all(mine.map(pidsIn))).flat();
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let left = pids;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter((pid) => existsSync(`/proc/${pid}`) && !isZombie(pid));
  }
  for (const pid of left) signal(pid, "SIGKILL");
  // A process killed above may still hold its namespace for a moment; the
  // name goes at once either way, and the namespace with its last process.
  await Promise.all(mine.map((ns) => ip(["netns", "delete", ns])));
  await rm(dir, { recursive: true, force: true });
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Labs whose owner is gone: their ids and namespaces, from names and folders. */
export function findStaleLabs(): Map<string, string[]> {
  const labs = new Map<string, string[]>();
  const add = (id: string, ns?: string): void => {
    const list = labs.get(id) ?? [];
    if (ns) list.push(ns);
    labs.set(id, list);
  };
  for (const ns of listNamespaces()) {
    const id = ID_PATTERN.exec(ns)?.[1];
    if (id) add(id, ns);
  }
  if (existsSync(labsRoot())) {
    for (const name of readdirSync(labsRoot())) if (ID_PATTERN.test(name)) add(name);
  }
  const stale = new Map<string, string[]>();
  for (const [id, namespaces] of labs) {
    const record = readRecord(labDir(id));
    const pid = Number(ID_PATTERN.exec(id)?.[2]);
    if (ownerAlive(record?.ownerPid ?? pid, record?.ownerStart ?? null)) continue;
    stale.set(id, [...new Set([...namespaces, ...(record?.namespaces ?? [])])]);
  }
  return stale;
}

/** Removes every stale lab; returns the ids removed. */
export async function sweepStaleLabs(): Promise<string[]> {
  const stale = findStaleLabs();
  for (const [id, namespaces] of stale) await removeLab(id, namespaces);
  return [...stale.keys()];
}

/** Live labs (owner running), for `firmware-sim net set` to find one. */
export function liveLabs(): LabRecord[] {
  if (!existsSync(labsRoot())) return [];
  return readdirSync(labsRoot())
    .filter((name) => ID_PATTERN.test(name))
    .map((name) => readRecord(labDir(name)))
    .filter((r): r is LabRecord => r !== null && ownerAlive(r.ownerPid, r.ownerStart));
}
