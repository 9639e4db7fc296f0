/**
 * Viewer accounts, kept in `viewers.json` in the state directory: for each
 * name, hashes of its MQTT password and of its bearer token (secret-hash.ts),
 * never the secrets. `camgw viewer add|list|remove` edit the file under a
 * lock; a running gateway watches it and reloads, so a new viewer can log in
 * and a removed one is thrown out without a restart.
 *
 * A viewer's MQTT username is its name, and its signaling viewerId is its
 * username (docs/signaling.md): the broker's ACL and the dispatcher both
 * decide by that one name. Its token is `<name>.<secret>`, so a token names
 * its account and only one hash is checked per request.
 */
import { EventEmitter } from "node:events";
import { watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { StateError } from "../errors.js";
import {
  hashSecret,
  isSecretHash,
  randomSecret,
  verifySecret,
  VerifiedSecrets,
} from "./secret-hash.js";
import { readStateFile, withStateLock, writeStateFile } from "./state-dir.js";

export const ACCOUNTS_FILE = "viewers.json";
const LOCK_FILE = "viewers.lock";

/** Names a viewer may have: an id (1-64 of A-Z a-z 0-9 _ -) that is not reserved. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Usernames of this form belong to devices (device-credential.ts). */
export const RESERVED_PREFIX = "camgw-";

/** Why a name cannot be a viewer's; undefined when it can. */
export function viewerNameProblem(name: string): string | undefined {
  if (!NAME.test(name)) return `"${name}" is not a valid viewer name: use 1-64 of A-Z a-z 0-9 _ -`;
  if (name.startsWith(RESERVED_PREFIX)) {
    return `"${name}" is not a valid viewer name: names starting with "${RESERVED_PREFIX}" are reserved for devices`;
  }
  return undefined;
}

interface StoredViewer {
  created: string;
  /** Hash of the MQTT password. */
  password: string;
  /** Hash of the secret part of the bearer token. */
  token: string;
}

interface AccountsFile {
  version: 1;
  viewers: Record<string, StoredViewer>;
}

export interface ViewerAccount {
  name: string;
  /** When it was created, ISO 8601. */
  created: string;
}

/** A viewer's credentials, as `camgw viewer add` prints them once. */
export interface NewViewer {
  name: string;
  username: string;
  password: string;
  token: string;
}

/** The stored password hash of a viewer, for broker files (mosquitto-files.ts). */
export interface ViewerPasswordHash {
  username: string;
  hash: string;
}

export interface AccountStoreEvents {
  /**
   * The accounts changed (another command edited the file). `ended` are the
   * names whose sessions must end: removed accounts, and accounts whose
   * credentials were replaced.
   */
  changed: [change: { added: string[]; ended: string[] }];
  /** The file could not be read after a change; the accounts known before stay. */
  error: [error: StateError];
}

function parseAccounts(text: string, path: string): AccountsFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new StateError(`${path} is not JSON: ${(err as Error).message}`, { path });
  }
  const file = doc as Partial<AccountsFile> | null;
  if (typeof file !== "object" || file === null || file.version !== 1) {
    throw new StateError(`${path} is not a camgw accounts file (version 1)`, { path });
  }
  const viewers: Record<string, StoredViewer> = {};
  for (const [name, raw] of Object.entries(file.viewers ?? {})) {
    const v = raw as Partial<StoredViewer> | null;
    if (
      viewerNameProblem(name) !== undefined ||
      typeof v?.password !== "string" ||
      typeof v.token !== "string" ||
      !isSecretHash(v.password) ||
      !isSecretHash(v.token)
    ) {
      throw new StateError(`${path}: the entry for "${name}" is damaged`, { path, name });
    }
    viewers[name] = {
      created: typeof v.created === "string" ? v.created : "",
      password: v.password,
      token: v.token,
    };
  }
  return { version: 1, viewers };
}

export class AccountStore extends EventEmitter<AccountStoreEvents> {
  readonly dir: string;
  /** False until the accounts file exists: a fresh state directory (the gateway's first start). */
  existed = false;
  #accounts: AccountsFile = { version: 1, viewers: {} };
  readonly #verified = new VerifiedSecrets();
  #watcher: FSWatcher | undefined;
  #reloadTimer: NodeJS.Timeout | undefined;
  /** The accounts file's mtime when it was last read (-1: absent). */
  #readMtimeMs = -1;
  /** When an unknown name last made it read the file (#lookupFresh). */
  #missReadAtMs = Number.NEGATIVE_INFINITY;

  private constructor(dir: string) {
    super();
    this.dir = dir;
  }

  /** Opens the accounts of a state directory (made by ensureStateDir); reads them once. */
  static async open(dir: string): Promise<AccountStore> {
    const store = new AccountStore(dir);
    store.existed = (await readStateFile(dir, ACCOUNTS_FILE)) !== undefined;
    store.#accounts = await store.#read();
    return store;
  }

  get path(): string {
    return `${this.dir}/${ACCOUNTS_FILE}`;
  }

  /** The viewers, by name. */
  list(): ViewerAccount[] {
    return Object.entries(this.#accounts.viewers)
      .map(([name, v]) => ({ name, created: v.created }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#accounts.viewers, name);
  }

  get size(): number {
    return Object.keys(this.#accounts.viewers).length;
  }

  /** Password hashes of every viewer (for an external broker's password file). */
  passwordHashes(): ViewerPasswordHash[] {
    return Object.entries(this.#accounts.viewers).map(([username, v]) => ({
      username,
      hash: v.password,
    }));
  }

  /**
   * Creates a viewer with fresh credentials (returned once, never stored).
   * `replace` gives an existing viewer new ones (its old ones stop working
   * and its sessions end); otherwise an existing name is refused.
   */
  async add(name: string, options: { replace?: boolean } = {}): Promise<NewViewer> {
    const problem = viewerNameProblem(name);
    if (problem !== undefined) throw new StateError(problem, { name });
    const password = randomSecret(18);
    const tokenSecret = randomSecret(24);
    const stored: StoredViewer = {
      created: new Date().toISOString(),
      password: await hashSecret(password),
      token: await hashSecret(tokenSecret),
    };
    await this.#edit((file) => {
      if (Object.hasOwn(file.viewers, name) && options.replace !== true) {
        throw new StateError(
          `viewer "${name}" exists already: remove it first, or give it new credentials with --replace`,
          { name },
        );
      }
      file.viewers[name] = stored;
    });
    return { name, username: name, password, token: `${name}.${tokenSecret}` };
  }

  /** Removes a viewer; false when there was none by that name. */
  async remove(name: string): Promise<boolean> {
    let removed = false;
    await this.#edit((file) => {
      removed = Object.hasOwn(file.viewers, name);
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a record keyed by name
      delete file.viewers[name];
    });
    return removed;
  }

  /** Whether `password` is the MQTT password of viewer `username`. */
  async verifyPassword(username: string, password: string): Promise<boolean> {
    const viewer = await this.#lookupFresh(username);
    if (!viewer) return false;
    return this.#check(`p:${username}`, password, viewer.password);
  }

  /** The account a bearer token belongs to, or undefined when it is no valid token. */
  async verifyToken(token: string): Promise<string | undefined> {
    const dot = token.indexOf(".");
    if (dot <= 0) return undefined;
    const name = token.slice(0, dot);
    const viewer = await this.#lookupFresh(name);
    if (!viewer) return undefined;
    return (await this.#check(`t:${name}`, token.slice(dot + 1), viewer.token)) ? name : undefined;
  }

  /** Watches the file and reloads on change, emitting `changed`. Safe to call twice. */
  watch(): void {
    if (this.#watcher) return;
    // The directory, not the file: an atomic write replaces the file (rename),
    // and a watch on the old inode would go quiet.
    this.#watcher = watch(this.dir, (_event, filename) => {
      if (filename !== ACCOUNTS_FILE) return;
      clearTimeout(this.#reloadTimer);
      this.#reloadTimer = setTimeout(() => void this.reload(), 20);
    });
    this.#watcher.on("error", (err) => {
      this.#emitError(new StateError(`watching ${this.dir}: ${err.message}`, { dir: this.dir }));
    });
  }

  /** Reads the file again and emits `changed` when the accounts differ. */
  async reload(): Promise<void> {
    let next: AccountsFile;
    try {
      next = await this.#read();
    } catch (err) {
      this.#emitError(err as StateError);
      return;
    }
    this.#apply(next);
  }

  close(): void {
    clearTimeout(this.#reloadTimer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #lookup(name: string): StoredViewer | undefined {
    return Object.hasOwn(this.#accounts.viewers, name) ? this.#accounts.viewers[name] : undefined;
  }

  /**
   * A name not known yet may be in the file already: a viewer `camgw viewer
   * add` made a moment ago, whose change the directory watch reports a little
   * later (its link is often opened at once). A running gateway then reads
   * the file again when it changed since it was last read, or when its last
   * such read is over 100 ms old (a file system's coarse mtime can hide a
   * change); a flood of unknown names costs at most ten reads a second.
   */
  async #lookupFresh(name: string): Promise<StoredViewer | undefined> {
    const viewer = this.#lookup(name);
    if (viewer || !this.#watcher) return viewer;
    const now = performance.now();
    const changed = (await mtimeMs(this.path)) !== this.#readMtimeMs;
    if (!changed && now - this.#missReadAtMs < 100) return undefined;
    this.#missReadAtMs = now;
    await this.reload();
    return this.#lookup(name);
  }

  async #check(account: string, secret: string, hash: string): Promise<boolean> {
    if (this.#verified.has(account, secret)) return true;
    const ok = await verifySecret(secret, hash);
    if (ok) this.#verified.add(account, secret);
    return ok;
  }

  async #read(): Promise<AccountsFile> {
    this.#readMtimeMs = await mtimeMs(this.path);
    const text = await readStateFile(this.dir, ACCOUNTS_FILE);
    if (text === undefined) return { version: 1, viewers: {} };
    return parseAccounts(text, this.path);
  }

  async #edit(change: (file: AccountsFile) => void): Promise<void> {
    await withStateLock(this.dir, LOCK_FILE, async () => {
      const file = await this.#read();
      change(file);
      await writeStateFile(this.dir, ACCOUNTS_FILE, JSON.stringify(file, null, 2) + "\n");
      this.#apply(file);
    });
  }

  #apply(next: AccountsFile): void {
    const before = this.#accounts.viewers;
    const after = next.viewers;
    const added = Object.keys(after).filter((n) => !Object.hasOwn(before, n));
    const ended = Object.keys(before).filter(
      (n) =>
        !Object.hasOwn(after, n) ||
        after[n]?.password !== before[n]?.password ||
        after[n]?.token !== before[n]?.token,
    );
    this.#accounts = next;
    if (added.length === 0 && ended.length === 0) return;
    this.#verified.clear();
    this.emit("changed", { added, ended });
  }

  /** Node's EventEmitter throws an unheard "error"; a bad file must never crash the gateway. */
  #emitError(error: StateError): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}

/** A file's modification time, ms; -1 when it does not exist. */
async function mtimeMs(path: string): Promise<number> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return -1;
  }
}
