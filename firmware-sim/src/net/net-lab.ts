/**
 * The network lab: a board, viewers, NAT boxes, a TURN server and an MQTT
 * broker on one machine, in network namespaces the lab creates and
 * removes (docs/firmware-sim.md, "Network lab"). `startNetLab()` is the
 * fixture tests and benches use; `firmware-sim net up` and `firmware-sim up`
 * use it too.
 *
 *   const lab = await startNetLab({ boardNat: "eim", viewerNats: ["symmetric"] });
 *   const gw = await lab.startGateway({ args: lab.iceArgs(["stun"]) });
 *   const report = await lab.probe("viewer1", { deviceId, ice: ["stun", "turn-udp"] });
 *   await lab.change("board:loss=2%:delay=40ms");
 *   await lab.close();
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type { ProbeEvent, ProbeReport } from "../../../gateway/src/probe/probe.js";
import {
  CAMGW_BIN,
  startGateway,
  type GatewayProcess,
  type GatewayProcessOptions,
} from "../../../gateway/src/testing/gateway-process.js";
import { LabAgent } from "./agent-client.js";
import { startMosquitto, type BrokerInfo } from "./broker.js";
import {
  DIRECTIONS,
  formatConditions,
  linkemParams,
  mergeConditions,
  parseConditions,
  type ConditionTargets,
  type LabConditions,
} from "./conditions.js";
import { startCoturn, type TurnInfo, type TurnServerOptions } from "./coturn.js";
import type { Daemon } from "./daemon.js";
import { NetLabError } from "./errors.js";
import { LabCa } from "./lab-ca.js";
import { linkemPath, type LinkEmulator, type LinkStats } from "./link-emulator.js";
import {
  checkHostAddress,
  nextHostAddress,
  planLab,
  planLinks,
  planNamespaces,
  type LabPlan,
  type NatType,
  type SitePlan,
} from "./plan.js";
import { startReaper, type ReaperProcess } from "./reaper-process.js";
import {
  labDir,
  newLabId,
  processStart,
  removeLab,
  sweepStaleLabs,
  writeRecord,
} from "./registry.js";
import { inNamespace, runCommand, type CommandResult } from "./shell.js";
import { buildTopology, moveHost, setHostInterface } from "./topology.js";

export interface NetLabOptions {
  /** The board's NAT (default eim, a home router). */
  boardNat?: NatType;
  /** One entry per viewer site (default one viewer behind eim). */
  viewerNats?: readonly NatType[];
  /** Initial conditions in the control language (conditions.ts). */
  conditions?: string;
  /** coturn on the internet (default on); false: none. */
  turn?: TurnServerOptions | false;
  /** Mosquitto on the internet (default true). */
  broker?: boolean;
  /** Seeds the links' randomness (loss, jitter, reordering). */
  seed?: number;
  /** A control file with a bad spec or a change that failed (default: printed on stderr). */
  onControlError?: (err: Error) => void;
}

/**
 * ICE servers the lab can hand out (see iceServers()): STUN, TURN with the
 * transport fixed (UDP, TCP, TLS), and `turn`, a plain turn: URL whose
 * transport the client picks.
 */
export type IceChoice = "stun" | "turn" | "turn-udp" | "turn-tcp" | "turns";

export interface LabProbeOptions {
  deviceId: string;
  seconds?: number;
  ice?: readonly IceChoice[];
  /** More `camgw probe` arguments. */
  args?: readonly string[];
  /**
   * The viewer account to log in with; default one named after the site,
   * made on the lab's latest gateway (`camgw viewer add`), as a person
   * pairs each device they watch from.
   */
  login?: { username: string; password: string };
  /** Each event the probe reports (`--events`, JSON lines on its stderr), as it happens. */
  onEvent?: (event: ProbeEvent & { at: number }) => void;
  /** Ends the watch early on abort: SIGINT, after which the probe still prints its report. */
  signal?: AbortSignal;
}

const REQUIRED_TOOLS = ["ip", "nft", "sysctl", "openssl"];

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function checkPrerequisites(options: NetLabOptions): void {
  if (process.getuid?.() !== 0) {
    throw new NetLabError("the network lab needs root (it creates network namespaces)");
  }
  const tools = [
    ...REQUIRED_TOOLS,
    ...(options.turn === false ? [] : ["turnserver"]),
    ...(options.broker === false ? [] : ["mosquitto"]),
  ];
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length) {
    throw new NetLabError(
      `the network lab needs ${missing.join(", ")}: install deps/apt/dev/netlab.txt (make dev-deps)`,
    );
  }
  accessSync(linkemPath(), constants.X_OK);
}

export class NetLab {
  private readonly addresses = new Map<string, { address: string; ifdown: boolean }>();
  private readonly sent = new Map<string, string>();
  private readonly children = new Set<ChildProcess>();
  private readonly gateways = new Set<GatewayProcess>();
  /** Viewer accounts made for probes, by gateway and site. */
  private readonly logins = new Map<string, Promise<{ username: string; password: string }>>();
  private readonly agents = new Set<LabAgent>();
  private readonly chromiumWrappers = new Map<string, string>();
  private current: LabConditions = { links: new Map(), hosts: new Map() };
  private controlText = "";
  private seenText: string | null = null;
  private queue: Promise<void> = Promise.resolve();
  private poller: NodeJS.Timeout | null = null;
  private polling = false;
  private closing: Promise<void> | null = null;
  turn: TurnInfo | null = null;
  broker: BrokerInfo | null = null;
  readonly daemons: Daemon[] = [];
  private brokerDaemon: Daemon | null = null;
  links = new Map<string, LinkEmulator>();

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly plan: LabPlan,
    private readonly reaper: ReaperProcess,
    private readonly onControlError: (err: Error) => void,
  ) {
    for (const s of plan.sites)
      this.addresses.set(s.name, { address: s.hostAddress, ifdown: false });
  }

  static async start(options: NetLabOptions = {}): Promise<NetLab> {
    checkPrerequisites(options);
    await sweepStaleLabs();
    const id = newLabId();
    const dir = labDir(id);
    const plan = planLab(id, {
      boardNat: options.boardNat ?? "eim",
      viewerNats: options.viewerNats ?? ["eim"],
    });
    const targets = conditionTargets(plan);
    const initial = options.conditions ?? "";
    validate(plan, parseConditions(initial, targets));
    const record = {
      id,
      ownerPid: process.pid,
      ownerStart: processStart(process.pid),
      namespaces: planNamespaces(plan),
    };
    await writeRecord(dir, record);
    let reaper: ReaperProcess;
    try {
      reaper = await startReaper(dir);
      await writeRecord(dir, { ...record, reaperPid: reaper.pid });
    } catch (err) {
      await removeLab(id, [], dir);
      throw err;
    }
    const lab = new NetLab(
      id,
      dir,
      plan,
      reaper,
      options.onControlError ??
        ((err) => process.stderr.write(`firmware-sim net: ${err.message}\n`)),
    );
    try {
      const [links, ca] = await Promise.all([
        buildTopology(plan, options.seed ?? 1),
        LabCa.create(dir),
      ]);
      lab.links = links;
      lab.caFile = ca.caFile;
      const turnPlan = plan.services.find((s) => s.name === "turn");
      const brokerPlan = plan.services.find((s) => s.name === "broker");
      await Promise.all([
        (async () => {
          if (options.turn === false || !turnPlan) return;
          const address = turnPlan.addresses[0] ?? "";
          const cert = await ca.issue("turn", [address]);
          const { daemon, info } = await startCoturn(
            turnPlan.ns,
            dir,
            address,
            turnPlan.addresses[1],
            cert,
            ca.caFile,
            options.turn,
          );
          lab.daemons.push(daemon);
          lab.turn = info;
        })(),
        (async () => {
          if (options.broker === false || !brokerPlan) return;
          const { daemon, info } = await startMosquitto(
            brokerPlan.ns,
            dir,
            brokerPlan.addresses[0] ?? "",
          );
          lab.daemons.push(daemon);
          lab.brokerDaemon = daemon;
          lab.broker = info;
        })(),
      ]);
      await lab.set(initial);
      lab.poller = setInterval(() => void lab.poll(), 50);
      lab.poller.unref();
      return lab;
    } catch (err) {
      await lab.close();
      throw err;
    }
  }

  /** The lab CA's certificate (PEM): trust it to check the lab's TLS services. */
  caFile = "";

  /** The control file: edit it (or use set/change) to change conditions while running. */
  get controlFile(): string {
    return join(this.dir, "control");
  }

  /** What became of the control file's last content: {text, ok, error} (for `firmware-sim net set`). */
  get controlStatusFile(): string {
    return join(this.dir, "control.status");
  }

  private async report(text: string, err: Error | null): Promise<void> {
    const status = { text, ok: err === null, ...(err ? { error: err.message } : {}) };
    // Written whole and renamed into place: a reader never sees half of it.
    const tmp = `${this.controlStatusFile}.tmp`;
    await writeFile(tmp, JSON.stringify(status) + "\n")
      .then(() => rename(tmp, this.controlStatusFile))
      .catch(() => undefined);
  }

  get board(): SitePlan {
    return this.site("board");
  }

  get viewers(): SitePlan[] {
    return this.plan.sites.filter((s) => s.kind === "viewer");
  }

  site(name: string): SitePlan {
    const s = this.plan.sites.find((x) => x.name === name);
    if (!s)
      throw new NetLabError(
        `no site "${name}" in this lab (${this.plan.sites.map((x) => x.name).join(", ")})`,
      );
    return s;
  }

  /** A site's host address now (it changes with `address=`). */
  address(site: string): string {
    return this.addresses.get(this.site(site).name)?.address ?? "";
  }

  /** The namespace of a site's host, its NAT ("board-nat"), a service ("turn", "broker") or "core". */
  namespace(name: string): string {
    if (name === "core") return this.plan.coreNs;
    const service = this.plan.services.find((s) => s.name === name);
    if (service) return service.ns;
    const nat = /^(.*)-nat$/.exec(name)?.[1];
    if (nat) {
      const ns = this.site(nat).natNs;
      if (!ns) throw new NetLabError(`${nat} has no NAT in this lab`);
      return ns;
    }
    return this.site(name).hostNs;
  }

  namespaces(): string[] {
    return planNamespaces(this.plan);
  }

  /** Spawns a command inside a namespace (see namespace()); ended with the lab. */
  spawn(
    where: string,
    cmd: string,
    args: readonly string[] = [],
    options: SpawnOptions = {},
  ): ChildProcess {
    const [ip = "", ...rest] = inNamespace(this.namespace(where), cmd, args);
    const child = spawn(ip, rest, options);
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** Runs a command inside a namespace to its end. */
  exec(
    where: string,
    cmd: string,
    args: readonly string[] = [],
    input?: string,
  ): Promise<CommandResult> {
    const [ip = "", ...rest] = inNamespace(this.namespace(where), cmd, args);
    return runCommand(ip, rest, input);
  }

  /** A socket agent in a namespace (agent.ts), closed with the lab. */
  async agent(where: string): Promise<LabAgent> {
    const agent = await LabAgent.start(this.namespace(where));
    this.agents.add(agent);
    return agent;
  }

  /** Node trusts the lab CA (for `turns:` and any TLS service of the lab) with this in its environment. */
  trustEnv(): NodeJS.ProcessEnv {
    return this.caFile ? { NODE_EXTRA_CA_CERTS: this.caFile } : {};
  }

  /**
   * ICE servers as W3C RTCIceServer entries, TURN ones with REST
   * credentials from the lab's secret (valid a day) named `name`.
   */
  iceServers(
    choices: readonly IceChoice[],
    name = "lab",
  ): { urls: string; username?: string; credential?: string }[] {
    if (choices.length && !this.turn) throw new NetLabError("this lab has no TURN server");
    const turn = this.turn;
    if (!turn) return [];
    const creds = turn.credentials(name);
    return choices.map((c) =>
      c === "stun"
        ? { urls: turn.stunUrl }
        : {
            urls: {
              turn: turn.urls.plain,
              "turn-udp": turn.urls.udp,
              "turn-tcp": turn.urls.tcp,
              turns: turn.urls.tls,
            }[c],
            username: creds.username,
            credential: creds.credential,
          },
    );
  }

  /** `--ice-servers` (with `--ice-username`/`--ice-credential`) for `camgw run` and `camgw probe`. */
  iceArgs(choices: readonly IceChoice[], name = "lab"): string[] {
    const servers = this.iceServers(choices, name);
    if (servers.length === 0) return [];
    const withCreds = servers.find((s) => s.username);
    return [
      "--ice-servers",
      servers.map((s) => s.urls).join(","),
      ...(withCreds
        ? [
            "--ice-username",
            withCreds.username ?? "",
            "--ice-credential",
            withCreds.credential ?? "",
          ]
        : []),
    ];
  }

  /**
   * The lab's ICE servers for `camgw run` as a deployment gives them: the
   * URLs as `--ice-servers` and the TURN REST secret in the environment
   * (CAMGW_TURN_SECRET; it is no flag), so the gateway makes TURN
   * credentials for itself and hands viewers theirs over signaling.
   */
  gatewayIce(choices: readonly IceChoice[]): { args: string[]; env: NodeJS.ProcessEnv } {
    const servers = this.iceServers(choices);
    if (servers.length === 0) return { args: [], env: {} };
    const args = ["--ice-servers", servers.map((s) => s.urls).join(",")];
    const turn = servers.some((s) => s.username !== undefined);
    return { args, env: turn && this.turn ? { CAMGW_TURN_SECRET: this.turn.secret } : {} };
  }

  /**
   * `camgw run` on a site's host (the board by default), on the virtual
   * board unless told otherwise, signaling through the lab's broker; it
   * gathers ICE candidates on the namespace's own interfaces.
   */
  async startGateway(
    options: GatewayProcessOptions & { site?: string } = {},
  ): Promise<GatewayProcess> {
    const { site = "board", ...rest } = options;
    const gateway = await startGateway({
      ...rest,
      env: { ...this.trustEnv(), ...rest.env },
      prefix: ["ip", "netns", "exec", this.namespace(site)],
      loopback: false,
      // The lab's LAN is a test network: viewers in other namespaces load
      // the page over plain HTTP from the board's address (not only from
      // 127.0.0.1, which is all a gateway serves plain by default).
      args: [
        "--allow-plain-lan",
        ...(this.broker ? ["--broker", this.broker.mqttUrl] : []),
        ...(rest.args ?? []),
      ],
    });
    this.gateways.add(gateway);
    return gateway;
  }

  /** A viewer account for `site` on the lab's latest gateway, made once. */
  private viewerLogin(site: string): Promise<{ username: string; password: string }> {
    const gateway = [...this.gateways].at(-1);
    if (!gateway) throw new NetLabError("start a gateway before probing it");
    const key = `${gateway.pid}/${site}`;
    let login = this.logins.get(key);
    if (!login) {
      login = gateway.addViewer(site);
      this.logins.set(key, login);
    }
    return login;
  }

  /** `camgw probe --json` on a site's host; resolves with its report. */
  async probe(site: string, options: LabProbeOptions): Promise<ProbeReport> {
    if (!this.broker) throw new NetLabError("this lab has no broker: start the probe yourself");
    const login = options.login ?? (await this.viewerLogin(site));
    const args = [
      CAMGW_BIN,
      "probe",
      options.deviceId,
      "--broker",
      this.broker.mqttUrl,
      "--seconds",
      String(options.seconds ?? 5),
      "--json",
      "--username",
      login.username,
      // One argument: a password may start with "-", which parseArgs would
      // take for an option.
      `--password=${login.password}`,
      ...this.iceArgs(options.ice ?? []),
      ...(options.onEvent ? ["--events"] : []),
      ...(options.args ?? []),
    ];
    const child = this.spawn(site, process.execPath, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...this.trustEnv() },
    });
    const interrupt = (): boolean => child.kill("SIGINT");
    if (options.signal?.aborted) interrupt();
    options.signal?.addEventListener("abort", interrupt, { once: true });
    let stdout = "";
    let stderr = "";
    let eventsRead = 0;
    const got: { report: ProbeReport | null } = { report: null };
    let grace: NodeJS.Timeout | undefined;
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString();
      try {
        got.report = JSON.parse(stdout) as ProbeReport;
      } catch {
        return; // not all of it yet
      }
      // werift 0.24.4 kept a TURN allocation's refresh timer running after
      // close (werift patch 4 cancels it); a probe that does not exit by
      // itself must still not hold the test up.
      grace = setTimeout(() => child.kill("SIGKILL"), 2000);
    });
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
      if (!options.onEvent) return;
      const end = stderr.lastIndexOf("\n") + 1;
      for (const line of stderr.slice(eventsRead, end).split("\n")) {
        // Only JSON lines are events; warnings are plain text.
        if (line.startsWith("{")) options.onEvent(JSON.parse(line) as ProbeEvent & { at: number });
      }
      eventsRead = Math.max(eventsRead, end);
    });
    const code = await new Promise<number | null>((resolve) =>
      child.once("exit", (c) => resolve(c)),
    );
    clearTimeout(grace);
    options.signal?.removeEventListener("abort", interrupt);
    if (got.report) return got.report;
    throw new NetLabError(
      `camgw probe in ${site} exited ${code} without a report:\n${stderr}${stdout}`,
    );
  }

  /**
   * An executable that runs Debian's Chromium inside a site's namespace,
   * for playwright-core's `executablePath` (its pipe transport passes through
   * `ip netns exec`, which execs Chromium in place).
   */
  async chromiumPath(site: string, chromium = "/usr/bin/chromium"): Promise<string> {
    const ns = this.namespace(site);
    const known = this.chromiumWrappers.get(ns);
    if (known) return known;
    const path = join(this.dir, `chromium-${site}`);
    await writeFile(path, `#!/bin/sh\nexec ip netns exec ${ns} ${chromium} "$@"\n`);
    await chmod(path, 0o755);
    this.chromiumWrappers.set(ns, path);
    return path;
  }

  /** The conditions now, as control-file text. */
  conditions(): string {
    return formatConditions(this.current);
  }

  /** Replaces all conditions (as a new control file would); resolves once they apply. */
  async set(spec: string): Promise<void> {
    const parsed = this.parse(spec);
    await this.serial(() => this.replace(spec, parsed));
  }

  /** Changes some conditions, keeping the others (e.g. "board:down", later "board:down=off"). */
  async change(spec: string): Promise<void> {
    const parsed = this.parse(spec);
    await this.serial(async () => {
      const text = formatConditions(mergeConditions(this.current, parsed));
      await this.replace(text, this.parse(text));
    });
  }

  /** Moves a site's host to the next address in its subnet; resolves with it. */
  async renewAddress(site: string): Promise<string> {
    const s = this.site(site);
    const next = nextHostAddress(s, this.address(site));
    await this.change(`${s.name}:address=${next}`);
    return next;
  }

  /** Cuts a site's link (packets dropped), in one direction or both. */
  linkDown(link: string, direction?: "up" | "down"): Promise<void> {
    return this.change(`${link}${direction ? `/${direction}` : ""}:down`);
  }

  linkUp(link: string, direction?: "up" | "down"): Promise<void> {
    return this.change(`${link}${direction ? `/${direction}` : ""}:down=off`);
  }

  /**
   * Stops the lab's Mosquitto (its clients' connections close, and new ones
   * are refused, as while a real broker restarts) and starts it again at
   * the same address `downMs` later; resolves once it accepts clients. Its
   * earlier log moves to `mosquitto.log.1`.
   */
  async restartBroker(downMs: number): Promise<void> {
    const old = this.brokerDaemon;
    const plan = this.plan.services.find((s) => s.name === "broker");
    if (!old || !this.broker || !plan) throw new NetLabError("this lab has no broker");
    await old.stop();
    this.daemons.splice(this.daemons.indexOf(old), 1);
    this.brokerDaemon = null;
    await new Promise((r) => setTimeout(r, downMs));
    await rename(this.broker.logFile, `${this.broker.logFile}.1`);
    const { daemon } = await startMosquitto(plan.ns, this.dir, plan.addresses[0] ?? "");
    this.daemons.push(daemon);
    this.brokerDaemon = daemon;
  }

  /** Packet counters of a link's emulator ("up" is from the site toward the internet). */
  stats(link: string): Promise<LinkStats> {
    const l = this.links.get(link);
    if (!l) throw new NetLabError(`no link "${link}" (${[...this.links.keys()].join(", ")})`);
    return l.stats();
  }

  private parse(spec: string): LabConditions {
    const parsed = parseConditions(spec, conditionTargets(this.plan));
    validate(this.plan, parsed);
    return parsed;
  }

  /**
   * Runs control-file work one piece at a time, so a poll that read the
   * file before set() wrote it cannot apply the old content afterwards.
   */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async replace(text: string, parsed: LabConditions): Promise<void> {
    this.controlText = text;
    await writeFile(this.controlFile, text);
    await this.apply(parsed);
    await this.report(text, null);
  }

  private async apply(c: LabConditions): Promise<void> {
    for (const [name, link] of this.links) {
      const want = c.links.get(name) ?? { up: {}, down: {} };
      for (const d of DIRECTIONS) {
        const params = linkemParams(want[d]);
        const key = `${name}/${d}`;
        if ((this.sent.get(key) ?? "") === params) continue;
        await link.set(d, params);
        this.sent.set(key, params);
      }
    }
    for (const s of this.plan.sites) {
      const want = c.hosts.get(s.name) ?? {};
      const now = this.addresses.get(s.name) ?? { address: s.hostAddress, ifdown: false };
      const address = want.address ?? s.hostAddress;
      const ifdown = want.ifdown ?? false;
      if (ifdown && !now.ifdown) {
        await setHostInterface(s, false);
        now.ifdown = true;
      }
      if (address !== now.address) {
        await moveHost(s, now.address, address, now.ifdown);
        now.address = address;
      }
      if (!ifdown && now.ifdown) {
        await setHostInterface(s, true);
        now.ifdown = false;
      }
      this.addresses.set(s.name, now);
    }
    this.current = c;
  }

  /** The control file changed: apply it, or report why not (the old conditions stay). */
  private async poll(): Promise<void> {
    if (this.polling || this.closing) return;
    this.polling = true;
    try {
      await this.serial(async () => {
        const text = await readFile(this.controlFile, "utf8").catch(() => null);
        if (text === null || text === this.controlText) return;
        // A file read while someone writes it can be empty or half there:
        // act on content only once two polls in a row read the same.
        if (text !== this.seenText) {
          this.seenText = text;
          return;
        }
        this.controlText = text;
        try {
          await this.apply(this.parse(text));
          await this.report(text, null);
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          await this.report(text, e);
          this.onControlError(e);
        }
      });
    } finally {
      this.polling = false;
    }
  }

  /**
   * Stops the gateways (gracefully), then removes everything: processes in
   * the lab's namespaces, the namespaces, the lab's folder. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.poller) clearInterval(this.poller);
      await Promise.all([...this.gateways].map((g) => g.stop()));
      for (const child of this.children) child.kill("SIGTERM");
      await Promise.all([...this.agents].map((a) => a.close()));
      const removed = await this.reaper.removeLab();
      if (!removed) await removeLab(this.id, planNamespaces(this.plan), this.dir);
      await Promise.all([...this.links.values()].map((l) => l.close()));
    })();
    return this.closing;
  }
}

function conditionTargets(plan: LabPlan): ConditionTargets {
  const viewers = plan.sites.filter((s) => s.kind === "viewer").map((s) => s.name);
  return {
    links: planLinks(plan),
    hosts: plan.sites.map((s) => s.name),
    groups: { viewers },
  };
}

/** Checks what the plan can say about a spec (addresses inside their subnets). */
function validate(plan: LabPlan, c: LabConditions): void {
  for (const [name, host] of c.hosts) {
    const s = plan.sites.find((x) => x.name === name);
    if (s && host.address !== undefined) checkHostAddress(s, host.address);
  }
}

/** Starts a network lab (see NetLab); close() it when done. */
export function startNetLab(options: NetLabOptions = {}): Promise<NetLab> {
  return NetLab.start(options);
}
