/**
 * Runs Debian's Mosquitto (/usr/sbin/mosquitto) for tests: a plain listener
 * (anonymous) and a TLS listener that requires a username and password, with
 * a CA and server certificate made by openssl at test time.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { connect, createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

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

/** A free TCP port on 127.0.0.1 (bound then released; fine for tests on loopback). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: "127.0.0.1" }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export class Mosquitto {
  #process: ChildProcess | undefined;
  log = "";

  private constructor(
    readonly configFile: string,
    readonly plainPort: number,
    readonly tlsPort: number,
  ) {}

  static async start(
    dir: string,
    users: Record<string, string>,
    tls: TlsMaterial,
  ): Promise<Mosquitto> {
    const passwd = join(dir, "passwd");
    await writeFile(passwd, "");
    for (const [user, password] of Object.entries(users)) {
      await run("mosquitto_passwd", ["-b", passwd, user, password]);
    }
    const plainPort = await freePort();
    const tlsPort = await freePort();
    const configFile = join(dir, "mosquitto.conf");
    await writeFile(
      configFile,
      [
        // Running as root in CI: keep root, or mosquitto drops to a user that cannot read the temp dir.
        "user root",
        "per_listener_settings true",
        "persistence false",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        `listener ${plainPort} 127.0.0.1`,
        "allow_anonymous true",
        `listener ${tlsPort} 127.0.0.1`,
        "allow_anonymous false",
        `password_file ${passwd}`,
        `cafile ${tls.caFile}`,
        `certfile ${tls.certFile}`,
        `keyfile ${tls.keyFile}`,
        "",
      ].join("\n"),
    );
    const broker = new Mosquitto(configFile, plainPort, tlsPort);
    await broker.restart();
    return broker;
  }

  /** (Re)starts the broker process on the same ports; no state survives (persistence false). */
  async restart(): Promise<void> {
    await this.stop();
    const child = spawn("/usr/sbin/mosquitto", ["-c", this.configFile], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr.on("data", (chunk: Buffer) => {
      this.log += chunk.toString("utf8");
    });
    this.#process = child;
    await waitForPort(this.plainPort, 10_000);
    await waitForPort(this.tlsPort, 10_000);
  }

  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }
}
