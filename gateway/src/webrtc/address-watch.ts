/**
 * Notices when this host's addresses change (a DHCP renew to a new lease,
 * Wi-Fi roaming, a cable moved): werift gathers ICE candidates once per peer
 * connection and binds its sockets to the addresses there were, and an
 * MQTT connection from an address that is gone just goes silent. Nothing
 * in Node reports the change, so the watch reads os.networkInterfaces()
 * once a second (a few microseconds) and says what came and went.
 */
import { EventEmitter } from "node:events";
import { networkInterfaces } from "node:os";

export interface AddressChange {
  added: string[];
  removed: string[];
}

export interface AddressWatchEvents {
  changed: [change: AddressChange];
}

export interface AddressWatchOptions {
  /** How often to look, ms (default 1000). */
  intervalMs?: number;
  /** The addresses now (default: every non-internal interface address). */
  read?: () => string[];
}

/** The host's non-loopback addresses, as werift's gathering sees them. */
export function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal)
    .map((a) => a?.address ?? "")
    .sort();
}

export class AddressWatch extends EventEmitter<AddressWatchEvents> {
  readonly #read: () => string[];
  readonly #timer: NodeJS.Timeout;
  #known: Set<string>;

  constructor(options: AddressWatchOptions = {}) {
    super();
    this.#read = options.read ?? hostAddresses;
    this.#known = new Set(this.#read());
    this.#timer = setInterval(() => this.check(), options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** The addresses seen last. */
  get addresses(): string[] {
    return [...this.#known];
  }

  /** Looks now (the timer calls it); emits `changed` when anything came or went. */
  check(): void {
    const now = new Set(this.#read());
    const added = [...now].filter((a) => !this.#known.has(a));
    const removed = [...this.#known].filter((a) => !now.has(a));
    this.#known = now;
    if (added.length || removed.length) this.emit("changed", { added, removed });
  }

  /** Stops looking; safe to call twice. */
  close(): void {
    clearInterval(this.#timer);
    this.removeAllListeners();
  }
}
