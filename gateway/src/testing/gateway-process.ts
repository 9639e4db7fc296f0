import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pairingLink, parsePairing, type PairingCredentials } from "../auth/pairing-link.js";
import type { ProbeReport } from "../probe/probe.js";
import { simEnv, type SimOptions } from "../../../firmware-sim/src/sim-env.js";
import { findUp } from "../paths.js";

/**
 * Boots the real `camgw run` (the compiled CLI, as a user runs it) in a child
 * process, on the virtual board unless told otherwise, with free ports and a
 * fresh state directory of its own (so it makes the first viewer, "owner",
 * and prints its pairing link, which tests log in with). Used by end-to-end
 * tests, the web viewer's browser tests and the benches.
 */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The plain page on loopback, http://127.0.0.1:PORT/ */
  readonly httpUrl: string;
  /** The HTTPS page, https://127.0.0.1:PORT/ */
  readonly httpsUrl: string;
  /** The embedded broker's MQTT/TCP URL (absent with an external broker). */
  readonly mqttUrl: string | undefined;
  /** The embedded broker's MQTT over TLS URL (absent with an external broker). */
  readonly mqttsUrl: string | undefined;
  /** The state directory (viewer accounts, TLS certificate). */
  readonly stateDir: string;
  /** The first viewer's credentials, from the pairing link camgw printed on first start. */
  readonly owner: PairingCredentials;
  /** The pairing link for this computer (http://127.0.0.1:PORT/#pair=...). */
  readonly ownerLink: string;
  /** SHA-256 fingerprint of the HTTPS certificate, as printed. */
  readonly fingerprint: string;
  /** `camgw viewer add NAME --json` with this gateway's state directory. */
  addViewer(
    name: string,
  ): Promise<PairingCredentials & { url: string; localUrl: string; fingerprint: string }>;
  /** `camgw viewer remove NAME` with this gateway's state directory. */
  removeViewer(name: string): Promise<void>;
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
  /** A state directory to use (kept); default a fresh temporary one, removed on stop. */
  stateDir?: string;
  /** The owner of a state directory used before (a restart prints no pairing link). */
  owner?: PairingCredentials;
}

/**
 * `camgw run` exited before it printed its start-up lines (a port taken, a
 * bad flag): `output` is what it said, which already says what to do.
 */
export class GatewayStartFailed extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`camgw exited with ${exitCode} before it started:\n${output}`);
    this.name = "GatewayStartFailed";
  }
}

const execFileAsync = promisify(execFile);

export const REPO_ROOT = findUp(join("gateway", "bin", "camgw.js")) ?? process.cwd();
export const CAMGW_BIN = join(REPO_ROOT, "gateway", "bin", "camgw.js");

export function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, "build", "gateway", "src", "cli.js"))) {
    throw new Error("the gateway is not built: run `make build` before these tests");
  }
}

export async function startGateway(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  assertBuilt();
  const ownDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "camgw-state-")));
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
    "--https-port",
    "0",
    "--mqtts-port",
    "0",
    "--state-dir",
    stateDir,
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

  interface Started {
    http: string;
    https: string;
    mqtt: string | undefined;
    mqtts: string | undefined;
    link: string | undefined;
    fingerprint: string;
  }
  const started = await new Promise<Started>((resolveStart, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`camgw did not start within ${options.startTimeoutMs ?? 20_000} ms:\n${out}`),
      );
    }, options.startTimeoutMs ?? 20_000);
    const check = (): void => {
      const http = /viewer at (http:\/\/\S+)/.exec(out)?.[1];
      if (!http || !/camgw: device /.test(out)) return;
      clearTimeout(timer);
      const https = /viewer at https:\/\/\S+?:(\d+)\//.exec(out)?.[1] ?? "0";
      resolveStart({
        http,
        // The printed HTTPS link names a LAN address; tests stay on loopback.
        https: `https://127.0.0.1:${https}/`,
        mqtt: /embedded MQTT broker at (mqtt:\/\/\S+)/.exec(out)?.[1],
        mqtts: /over TLS at (mqtts:\/\/\S+)/.exec(out)?.[1],
        link: /On this computer, open: +(http:\/\/\S+)/.exec(out)?.[1],
        fingerprint: /SHA-256 ([0-9A-F:]{95})/.exec(out)?.[1] ?? "",
      });
    };
    child.stdout.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new GatewayStartFailed(code, out));
    });
  }).catch(async (err: unknown) => {
    // Leave nothing behind: a gateway that never started, nor its fresh
    // state directory (it holds the TLS key and the owner's secrets).
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    if (ownDir) await rm(stateDir, { recursive: true, force: true });
    throw err;
  });

  const owner = started.link === undefined ? options.owner : parsePairing(started.link);
  if (!owner) {
    child.kill("SIGKILL");
    throw new Error(`camgw printed no pairing link on its first start:\n${out}`);
  }
  const ownerLink = started.link ?? pairingLink(started.http, owner);
  const cli = async (...args: string[]): Promise<string> => {
    const { stdout } = await execFileAsync(process.execPath, [
      CAMGW_BIN,
      "viewer",
      ...args,
      "--state-dir",
      stateDir,
    ]);
    return stdout;
  };

  let stopping: Promise<number | null> | null = null;
  return {
    child,
    pid: child.pid ?? 0,
    httpUrl: started.http,
    httpsUrl: started.https,
    mqttUrl: started.mqtt,
    mqttsUrl: started.mqtts,
    stateDir,
    owner,
    ownerLink,
    fingerprint: started.fingerprint,
    addViewer: async (name) =>
      JSON.parse(await cli("add", name, "--json")) as PairingCredentials & {
        url: string;
        localUrl: string;
        fingerprint: string;
      },
    removeViewer: async (name) => {
      await cli("remove", name);
    },
    output: () => out,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        const code = await exited;
        clearTimeout(timer);
        if (ownDir) await rm(stateDir, { recursive: true, force: true });
        return code;
      })();
      return stopping;
    },
  };
}

/** Probe options that keep a test's media on loopback like the gateway's. */
export const LOOPBACK_PROBE = { hostAddresses: ["127.0.0.1"] } as const;

/** Probe options for a gateway's embedded broker, logged in as `who` (default its owner). */
export function probeLogin(
  gw: GatewayProcess,
  who: Pick<PairingCredentials, "username" | "password"> = gw.owner,
): { broker: string; username: string; password: string; hostAddresses: readonly string[] } {
  return {
    ...LOOPBACK_PROBE,
    broker: gw.mqttUrl ?? "",
    username: who.username,
    password: who.password,
  };
}

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

/** A `camgw probe` in a process of its own, watching until stopped. */
export interface ProbeProcess {
  /** SIGINT (the probe prints its report so far), then the report. */
  stop(): Promise<ProbeReport>;
}

/**
 * Runs `camgw probe DEVICE --pair LINK --json` as a person would, in its own
 * process, so what the test process does (e.g. build a 50 MiB attack) cannot
 * freeze the video it measures.
 */
export function startProbeProcess(
  gw: GatewayProcess,
  deviceId: string,
  pairLink: string,
  broker = gw.mqttUrl ?? "",
): ProbeProcess {
  const child = spawn(
    process.execPath,
    [
      CAMGW_BIN,
      "probe",
      deviceId,
      "--broker",
      broker,
      "--pair",
      pairLink,
      "--json",
      "--no-decode",
      "--seconds",
      "3600",
      "--ice-host-addresses",
      "127.0.0.1",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    stop: async () => {
      child.kill("SIGINT");
      await exited;
      try {
        return JSON.parse(out) as ProbeReport;
      } catch {
        throw new Error(`camgw probe printed no report:\n${out}\n${err}`);
      }
    },
  };
}
