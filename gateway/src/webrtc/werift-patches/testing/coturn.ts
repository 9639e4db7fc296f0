/**
 * Debian's coturn (/usr/bin/turnserver, deps/apt/dev/turn.txt) as a real
 * TURN server for tests: UDP and TCP (and optionally TLS) listeners on
 * 127.0.0.1, relaying on 127.0.0.1, REST API credentials from a shared
 * secret (`use-auth-secret`), verbose log, config and database in its own
 * temp dir. Lifetimes can be made short so a test outlives them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { turnSessions, type TurnSession } from "../../../../../firmware-sim/src/net/coturn-log.js";
import type { TlsMaterial } from "../../../testing/mosquitto.js";
import { acceptsTcp, freeTcpUdpPort } from "../../../testing/ports.js";

export interface CoturnOptions {
  /** --max-allocate-lifetime, s (coturn's default 3600). */
  allocationLifetime?: number;
  /** --permission-lifetime, s (RFC 8656: 300). */
  permissionLifetime?: number;
  /** --channel-lifetime, s (RFC 8656: 600). */
  channelLifetime?: number;
  /** --stale-nonce, s: nonces expire (and requests get 438) after this long. */
  staleNonce?: number;
  /** Adds a TLS listener with this certificate. */
  tls?: TlsMaterial;
  /** false: no UDP listener (--no-udp), TCP only, as seen through a firewall that drops UDP. */
  udp?: boolean;
}

/** What coturn's verbose log says happened to one allocation (a "session"). */
export type CoturnSession = TurnSession;

const REALM = "camgw.test";

export class Coturn {
  readonly #secret = randomBytes(16).toString("hex");
  #child: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly tlsPort: number | undefined,
    readonly udp: boolean,
  ) {}

  static async start(options: CoturnOptions = {}): Promise<Coturn> {
    const dir = await mkdtemp(join(tmpdir(), "camgw-coturn-"));
    const turn = new Coturn(
      dir,
      await freeTcpUdpPort(),
      options.tls ? await freeTcpUdpPort() : undefined,
      options.udp ?? true,
    );
    const lines = [
      "listening-ip=127.0.0.1",
      "relay-ip=127.0.0.1",
      `listening-port=${turn.port}`,
      // Peers are on loopback too (coturn refuses them by default).
      "allow-loopback-peers",
      "use-auth-secret",
      `static-auth-secret=${turn.#secret}`,
      `realm=${REALM}`,
      "no-dtls",
      "no-cli",
      "no-software-attribute",
      "verbose",
      "simple-log",
      `log-file=${join(dir, "turn.log")}`,
      `pidfile=${join(dir, "turn.pid")}`,
      `userdb=${join(dir, "turndb")}`,
    ];
    if (options.allocationLifetime !== undefined)
      lines.push(`max-allocate-lifetime=${options.allocationLifetime}`);
    if (options.permissionLifetime !== undefined)
      lines.push(`permission-lifetime=${options.permissionLifetime}`);
    if (options.channelLifetime !== undefined)
      lines.push(`channel-lifetime=${options.channelLifetime}`);
    if (options.staleNonce !== undefined) lines.push(`stale-nonce=${options.staleNonce}`);
    if (!turn.udp) lines.push("no-udp");
    if (options.tls && turn.tlsPort !== undefined) {
      lines.push(
        `tls-listening-port=${turn.tlsPort}`,
        `cert=${options.tls.certFile}`,
        `pkey=${options.tls.keyFile}`,
      );
    } else {
      lines.push("no-tls");
    }
    await writeFile(join(dir, "turnserver.conf"), lines.join("\n") + "\n");
    try {
      await turn.launch();
    } catch (error) {
      await turn.stop();
      throw error;
    }
    return turn;
  }

  private async launch(): Promise<void> {
    const child = spawn("/usr/bin/turnserver", ["-c", join(this.dir, "turnserver.conf")], {
      stdio: ["ignore", "ignore", "ignore"],
    });
    this.#child = child;
    const deadline = Date.now() + 10_000;
    const udpOpen = `UDP listener opened on: 127.0.0.1:${this.port}`;
    for (;;) {
      const tcp = await acceptsTcp(this.port);
      const tls = this.tlsPort === undefined || (await acceptsTcp(this.tlsPort));
      const udp = !this.udp || (await this.log()).includes(udpOpen);
      if (tcp && tls && udp) return;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`coturn did not start on ${this.port}:\n${await this.log()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * TURN REST API credentials (coturn's use-auth-secret, the scheme of
   * draft-uberti-behave-turn-rest): username "<expiry>:<user>", password
   * base64(HMAC-SHA1(secret, username)).
   */
  credentials(user: string, ttlSeconds = 3600): { username: string; credential: string } {
    const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${user}`;
    const credential = createHmac("sha1", this.#secret).update(username).digest("base64");
    return { username, credential };
  }

  async log(): Promise<string> {
    return readFile(join(this.dir, "turn.log"), "utf8").catch(() => "");
  }

  /** The allocations coturn logged for `username`. */
  async sessions(username: string): Promise<CoturnSession[]> {
    return turnSessions(await this.log(), (user) => user === username);
  }

  /** Stops coturn (SIGTERM, then SIGKILL) and removes its directory. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
