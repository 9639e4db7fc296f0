/**
 * Debian's Mosquitto (/usr/sbin/mosquitto) as a real external broker for
 * tests: an anonymous plain listener, and optionally a TLS listener that
 * requires a username and password (CA and server certificate made by
 * openssl at test time) and a WebSocket listener for browsers. Used by the
 * signaling tests, the gateway's end-to-end tests and the web viewer's.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { acceptsTcp, freePort } from "./ports.js";

const run = promisify(execFile);

export interface TlsMaterial {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1/localhost, valid one day. */
export async function makeTlsMaterial(dir: string): Promise<TlsMaterial> {
  const p = (name: string): string => join(dir, name);
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=camgw-test-ca",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
  ]);
  await run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    p("server.key"),
    "-out",
    p("server.csr"),
  ]);
  await writeFile(p("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    p("server.csr"),
    "-CA",
    p("ca.crt"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    p("san.ext"),
    "-out",
    p("server.crt"),
  ]);
  return { caFile: p("ca.crt"), certFile: p("server.crt"), keyFile: p("server.key") };
}

export interface MosquittoOptions {
  /** Working folder for config, passwords and certificates; default a fresh temp dir. */
  dir?: string;
  /** Adds a TLS listener that requires one of these users. */
  tls?: { material: TlsMaterial; users: Record<string, string> };
  /** Adds an anonymous MQTT-over-WebSocket listener. */
  websockets?: boolean;
  /**
   * Instead of the anonymous plain listener: these global settings (e.g.
   * the lines of `camgw broker-config`'s camgw.conf), then a plain listener
   * that they govern. The TLS and WebSocket listeners are not added then.
   */
  settings?: string[];
  /** The plain listener's port; default a free one. */
  plainPort?: number;
}

export class Mosquitto {
  #child: ChildProcess | undefined;
  log = "";

  private constructor(
    readonly dir: string,
    readonly plainPort: number,
    readonly tlsPort: number | undefined,
    readonly wsPort: number | undefined,
  ) {}

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "camgw-mosquitto-")));
    const broker = new Mosquitto(
      dir,
      options.plainPort ?? (await freePort()),
      options.tls ? await freePort() : undefined,
      options.websockets ? await freePort() : undefined,
    );
    if (options.settings) {
      const lines = [
        "user root",
        "persistence false",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        ...options.settings,
        // Settings with their own listener (camgw.conf) name the port themselves.
        ...(options.settings.some((l) => l.startsWith("listener "))
          ? []
          : [`listener ${broker.plainPort} 127.0.0.1`]),
      ];
      await writeFile(join(dir, "mosquitto.conf"), lines.join("\n") + "\n");
      await broker.start();
      return broker;
    }
    const lines = [
      // Running as root in CI: keep root, or mosquitto drops to a user that cannot read the temp dir.
      "user root",
      "per_listener_settings true",
      "persistence false",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      `listener ${broker.plainPort} 127.0.0.1`,
      "allow_anonymous true",
    ];
    if (options.tls && broker.tlsPort !== undefined) {
      const passwd = join(dir, "passwd");
      await writeFile(passwd, "");
      for (const [user, password] of Object.entries(options.tls.users)) {
        await run("mosquitto_passwd", ["-b", passwd, user, password]);
      }
      const { caFile, certFile, keyFile } = options.tls.material;
      lines.push(
        `listener ${broker.tlsPort} 127.0.0.1`,
        "allow_anonymous false",
        `password_file ${passwd}`,
        `cafile ${caFile}`,
        `certfile ${certFile}`,
        `keyfile ${keyFile}`,
      );
    }
    if (broker.wsPort !== undefined) {
      lines.push(
        `listener ${broker.wsPort} 127.0.0.1`,
        "protocol websockets",
        "allow_anonymous true",
      );
    }
    await writeFile(join(dir, "mosquitto.conf"), lines.join("\n") + "\n");
    await broker.start();
    return broker;
  }

  /** A listener's port; throws when this broker was started without it. */
  port(listener: "plain" | "tls" | "ws"): number {
    const port = { plain: this.plainPort, tls: this.tlsPort, ws: this.wsPort }[listener];
    if (port === undefined) throw new Error(`this mosquitto has no ${listener} listener`);
    return port;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.plainPort}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port("ws")}`;
  }

  /** Starts the broker process (again) on the same ports; no state survives (persistence false). */
  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn("/usr/sbin/mosquitto", ["-c", join(this.dir, "mosquitto.conf")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    child.stdout.on("data", (c: Buffer) => (this.log += c.toString()));
    child.stderr.on("data", (c: Buffer) => (this.log += c.toString()));
    const deadline = Date.now() + 10_000;
    for (const port of [this.plainPort, this.tlsPort, this.wsPort]) {
      if (port === undefined) continue;
      while (!(await acceptsTcp(port))) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`mosquitto did not listen on ${port}:\n${this.log}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the broker and removes its folder. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
