import type { Socket } from "node:net";

/**
 * Connections open at once per client address, across a group of listeners
 * (the web ports together, the broker's listeners together): one LAN host
 * cannot hold every slot of a port's cap and lock every viewer out. A
 * connection over the cap is closed at once, before a byte is read; a
 * browser tab needs ~6 (RFC 9112 leaves it open; browsers cap HTTP/1.1 at 6
 * per host) plus its /mqtt WebSocket, so the default of 16 leaves room for
 * two tabs and a WHEP player on one host.
 *
 * Exempt: 127.0.0.1 and ::1 (and ::ffff:127.0.0.1), the source addresses
 * local clients use by default. The page opened on the board, Home
 * Assistant on the same host and a reverse proxy in front of the gateway all
 * come from there, and a proxy carries every remote viewer on its own
 * connections; capping it would cap them all together. The rest of
 * 127.0.0.0/8 is not exempt: no local client uses it unless told to, and
 * tests stand in for LAN hosts with it. (`/metrics` access is a different
 * question, whether a client is on this machine at all: there all of
 * 127.0.0.0/8 counts, as no packet from elsewhere can carry such a source;
 * see access.ts.)
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 16;

const EXEMPT = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** Why a connection was closed unserved: its address's cap, or the listener's. */
export type ConnectionRefusal = "per-address" | "full";

export interface ConnectionCapStats {
  /** Connections closed at once, by the cap that refused them. */
  refused: Record<ConnectionRefusal, number>;
}

export class AddressCap {
  readonly #open = new Map<string, number>();
  readonly #stats: ConnectionCapStats = { refused: { "per-address": 0, full: 0 } };

  constructor(readonly maxPerAddress = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS) {}

  /** Whether `address` is exempt from the cap (this machine's own loopback address). */
  static exempt(address: string | undefined): boolean {
    return address !== undefined && EXEMPT.has(address);
  }

  /**
   * Counts `socket` in for its address until it closes, or refuses it:
   * false when its address has `maxPerAddress` open already (the caller
   * closes it). A socket without an address (already gone) is let through:
   * there is nothing to count.
   */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress;
    if (address === undefined || AddressCap.exempt(address)) return true;
    const open = this.#open.get(address) ?? 0;
    if (open >= this.maxPerAddress) {
      this.#stats.refused["per-address"]++;
      return false;
    }
    this.#open.set(address, open + 1);
    socket.once("close", () => {
      const left = (this.#open.get(address) ?? 1) - 1;
      if (left > 0) this.#open.set(address, left);
      else this.#open.delete(address);
    });
    return true;
  }

  /** Counts a connection the listener's own cap refused (net.Server 'drop', or the broker's). */
  countFull(): void {
    this.#stats.refused.full++;
  }

  /** Connections open from `address` now (counted ones only). */
  openFrom(address: string): number {
    return this.#open.get(address) ?? 0;
  }

  get stats(): ConnectionCapStats {
    return { refused: { ...this.#stats.refused } };
  }
}
