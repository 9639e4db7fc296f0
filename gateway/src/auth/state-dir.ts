/**
 * The state directory: where camgw keeps what it must not lose and nobody
 * else may read (the viewer accounts, the device's broker secret, the TLS key
 * and certificate). Mode 0700; every file in it 0600, written atomically
 * (a temporary file, fsync, rename), so a crash or a concurrent reader never
 * sees half a file.
 */
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { StateError } from "../errors.js";

/**
 * Where state lives when config says nothing: `$XDG_STATE_HOME/camgw`, else
 * `~/.local/state/camgw` (XDG Base Directory spec 0.8). The packaged service
 * sets `state-dir: /var/lib/camgw` in its config.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // The spec says a relative XDG path is invalid and must be ignored.
  if (xdg !== undefined && xdg.startsWith("/")) return join(xdg, "camgw");
  return join(homedir(), ".local", "state", "camgw");
}

/** The state directory configured, or the default. */
export function stateDirFrom(configured: string, env: NodeJS.ProcessEnv = process.env): string {
  return configured === "" ? defaultStateDir(env) : configured;
}

/**
 * Creates the directory (and its parents) when missing, and makes sure only
 * its owner can enter it: group or other bits are taken away. A directory
 * that belongs to another user is refused unless we are root (then the files
 * we write are handed to that user: `sudo camgw viewer add` on a board
 * writes files the service user can read).
 */
export async function ensureStateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await stat(dir);
    if (!info.isDirectory()) throw new StateError(`state directory ${dir} is not a directory`);
    const uid = process.getuid?.();
    if (uid !== undefined && uid !== 0 && info.uid !== uid) {
      throw new StateError(
        `state directory ${dir} belongs to user id ${info.uid}, not to this user (${uid}): run camgw as its owner (e.g. sudo -u camgw camgw ...)`,
        { dir },
      );
    }
    if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
  } catch (err) {
    if (err instanceof StateError) throw err;
    throw new StateError(
      `state directory ${dir}: ${(err as Error).message}`,
      { dir },
      {
        cause: err,
      },
    );
  }
}

/**
 * Writes `data` to `dir/name` atomically with mode 0600: a temporary file
 * beside it, fsync, rename over the old one. Readers see the old file or the
 * new one, never a mix.
 */
export async function writeStateFile(
  dir: string,
  name: string,
  data: string | Uint8Array,
): Promise<void> {
  const path = join(dir, name);
  const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
      const owner = await stat(dir);
      // Root writing into a service user's directory: the file is that user's.
      if (process.getuid?.() === 0 && owner.uid !== 0) await chown(temp, owner.uid, owner.gid);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw new StateError(
      `cannot write ${path}: ${(err as Error).message}`,
      { path },
      {
        cause: err,
      },
    );
  }
}

/** Reads `dir/name` as text; undefined when it does not exist. */
export async function readStateFile(dir: string, name: string): Promise<string | undefined> {
  const path = join(dir, name);
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StateError(
      `cannot read ${path}: ${(err as Error).message}`,
      { path },
      {
        cause: err,
      },
    );
  }
}

/**
 * Runs `work` holding `dir/name` as a lock file (created exclusively), so two
 * `camgw viewer add` at once cannot lose one another's account. A lock older
 * than 10 s is a crashed holder's and is taken over.
 */
export async function withStateLock<T>(
  dir: string,
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  const path = join(dir, name);
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new StateError(
          `cannot lock ${path}: ${(err as Error).message}`,
          { path },
          {
            cause: err,
          },
        );
      }
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 10_000) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StateError(
          `${path} is locked by another camgw command; try again (or remove it if none runs)`,
          { path },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
