/**
 * Keeps the TLS certificate of a running gateway current: checks daily (and,
 * for the user's own `tls-cert`/`tls-key`, whenever either file changes)
 * whether there is a new one to serve, and says so with `renewed`; the
 * gateway hands it to its HTTPS and MQTT-over-TLS servers
 * (`tls.Server.setSecureContext()`), so no restart is needed.
 *
 * - Self-signed: loadTlsMaterial makes a new one when fewer than 30 days
 *   are left. A gateway that runs for months would otherwise serve an
 *   expired certificate after checking only at start.
 * - The user's own: certbot and its kin renew every ~60 days and replace the
 *   files (or the symlinks in live/); they are read again, and checked to
 *   belong together. A pair that does not load (half written, a key of
 *   another certificate) is reported with `error` and the old one kept; the
 *   next change of either file, or the next daily check, tries again.
 *
 * The files are polled (fs.watchFile follows symlinks, so a live/ symlink
 * moved to a new archive file is seen; fs.watch on a file is not), every
 * 10 s, and read once both have been still for 15 s.
 */
import { EventEmitter } from "node:events";
import { unwatchFile, watchFile, type Stats } from "node:fs";
import { loadTlsMaterial, type TlsMaterial, type TlsOptions } from "./tls-material.js";

const DAY_MS = 86_400_000;
const FILE_POLL_MS = 10_000;

export interface TlsRenewalOptions extends Omit<TlsOptions, "now"> {
  /** What the servers serve now. */
  current: TlsMaterial;
  /** The clock the expiry is checked against (tests move it); default the real one. */
  now?: () => Date;
  /** Between checks; default a day. */
  intervalMs?: number;
  /** How often the user's files are polled for a change; default 10 s. */
  filePollMs?: number;
}

export interface TlsRenewalEvents {
  /** A new certificate and key to serve (a new fingerprint, or the user's files changed). */
  renewed: [material: TlsMaterial];
  /** A check could not load a new pair; the one in `current` stays. */
  error: [error: Error];
}

export class TlsRenewal extends EventEmitter<TlsRenewalEvents> {
  #current: TlsMaterial;
  #queue: Promise<TlsMaterial | null> = Promise.resolve(null);
  #closed = false;
  readonly #timer: NodeJS.Timeout;
  readonly #watched: string[] = [];
  #settle: NodeJS.Timeout | undefined;
  readonly #onFileChange = (now: Stats, before: Stats): void => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) {
      return;
    }
    // Checked once both files have been still for a while: a renewal writes
    // the certificate and then the key, and each file is polled on its own
    // schedule; checking at the first change would log a mismatch for every
    // renewal. 1.5 polls: the other file's change is seen within one.
    clearTimeout(this.#settle);
    this.#settle = setTimeout(
      () => void this.check(),
      1.5 * (this.options.filePollMs ?? FILE_POLL_MS),
    ).unref();
  };

  constructor(private readonly options: TlsRenewalOptions) {
    super();
    this.#current = options.current;
    // Unref'd: a daily check must not keep a process alive that is otherwise done.
    this.#timer = setInterval(() => void this.check(), options.intervalMs ?? DAY_MS).unref();
    for (const file of [options.certFile, options.keyFile]) {
      if (!file) continue;
      watchFile(
        file,
        { persistent: false, interval: options.filePollMs ?? FILE_POLL_MS },
        this.#onFileChange,
      );
      this.#watched.push(file);
    }
  }

  /** What the servers should serve now. */
  get current(): TlsMaterial {
    return this.#current;
  }

  /**
   * Loads the certificate as a start would (renewing a self-signed one near
   * its expiry); resolves with it when it differs from `current` (after
   * `renewed`), else null. Checks run one at a time, in order.
   */
  check(): Promise<TlsMaterial | null> {
    this.#queue = this.#queue.then(() => this.#check());
    return this.#queue;
  }

  async #check(): Promise<TlsMaterial | null> {
    if (this.#closed) return null;
    const { current: _current, now, intervalMs: _i, filePollMs: _f, ...tls } = this.options;
    let next: TlsMaterial;
    try {
      next = await loadTlsMaterial({ ...tls, ...(now ? { now: now() } : {}) });
    } catch (err) {
      // close() may have come during the await.
      if (!this.#isClosed()) {
        this.emit(
          "error",
          new Error(
            `cannot load the new TLS certificate: ${(err as Error).message}; still serving SHA-256 ${this.#current.fingerprint}`,
            { cause: err },
          ),
        );
      }
      return null;
    }
    if (this.#isClosed()) return null;
    if (next.fingerprint === this.#current.fingerprint && next.key === this.#current.key) {
      return null;
    }
    this.#current = next;
    this.emit("renewed", next);
    return next;
  }

  #isClosed(): boolean {
    return this.#closed;
  }

  /** Stops the daily check and the file polling; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#settle);
    for (const file of this.#watched.splice(0)) unwatchFile(file, this.#onFileChange);
  }
}
