import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { simEnv, type SimOptions } from "../../../firmware-sim/src/sim-env.js";
import { findUp } from "../paths.js";

/**
 * Boots the real `camgw run` (the compiled CLI, as a user runs it) in a child
 * process, on the virtual board unless told otherwise, with free ports. Used
 * by end-to-end tests, the web viewer's browser tests and the benches.
 */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly httpUrl: string;
  /** The embedded broker's MQTT/TCP URL (absent with an external broker). */
  readonly mqttUrl: string | undefined;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then wait for exit; resolves with the exit code. Safe to call twice. */
  stop(): Promise<number | null>;
}

export interface GatewayProcessOptions {
  /** Extra `camgw run` arguments (device id, max viewers, broker ...). */
  args?: string[];
  /** The virtual board; null runs without it (e.g. a pipe source). */
  sim?: SimOptions | null;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the "viewer at" line. */
  startTimeoutMs?: number;
  /** Runs node through this command (e.g. `ip netns exec NS` for the network lab). */
  prefix?: readonly string[];
  /**
   * Keep HTTP, the embedded broker and ICE on 127.0.0.1 (default). false:
   * the gateway listens and gathers on its own interfaces, as on a board
   * (the network lab runs it in a namespace of its own).
   */
  loopback?: boolean;
}

export const REPO_ROOT = findUp(join("gateway", "bin", "camgw.js")) ?? process.cwd();
export const CAMGW_BIN = join(REPO_ROOT, "gateway", "bin", "camgw.js");

export function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, "build", "gateway", "src", "cli.js"))) {
    throw new Error("the gateway is not built: run `make build` before these tests");
  }
}

export async function startGateway(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  assertBuilt();
  const sim = options.sim === undefined ? {} : options.sim;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(sim ? simEnv(sim, process.env) : {}),
    ...options.env,
  };
  const loopback = options.loopback ?? true;
  const args = [
    CAMGW_BIN,
    "run",
    ...(loopback ? ["--listen", "127.0.0.1"] : []),
    "--http-port",
    "0",
    "--mqtt-port",
    "0",
    // Tests keep all traffic on loopback (werift otherwise uses every interface).
    ...(loopback ? ["--ice-host-addresses", "127.0.0.1"] : []),
    ...(sim ? ["--source", "sim"] : []),
    ...(options.args ?? []),
  ];
  const command = [...(options.prefix ?? []), process.execPath, ...args];
  const child = spawn(command.shift() ?? process.execPath, command, {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));

  const started = await new Promise<{ http: string; mqtt: string | undefined }>(
    (resolveStart, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`camgw did not start within ${options.startTimeoutMs ?? 20_000} ms:\n${out}`),
        );
      }, options.startTimeoutMs ?? 20_000);
      const check = (): void => {
        const http = /viewer at (http:\/\/\S+)/.exec(out)?.[1];
        if (!http || !/camgw: device /.test(out)) return;
        clearTimeout(timer);
        resolveStart({ http, mqtt: /embedded MQTT broker at (mqtt:\/\/\S+)/.exec(out)?.[1] });
      };
      child.stdout.on("data", check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`camgw exited with ${code} before it started:\n${out}`));
      });
    },
  );

  let stopping: Promise<number | null> | null = null;
  return {
    child,
    pid: child.pid ?? 0,
    httpUrl: started.http,
    mqttUrl: started.mqtt,
    output: () => out,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

/** Probe options that keep a test's media on loopback like the gateway's. */
export const LOOPBACK_PROBE = { hostAddresses: ["127.0.0.1"] } as const;

/** GET a URL on the gateway; resolves with status and parsed JSON (or text). */
export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (e.g. /metrics): keep the text.
  }
  return { status: res.status, body };
}
