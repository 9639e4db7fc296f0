/**
 * Runs one scenario (scenarios.ts) with the libwebrtc reference instead of
 * camgw: reference-sender.ts in the board's namespace, reference-receiver.ts
 * in the (first) viewer's, through the same lab and the same link steps,
 * this process relaying their signaling. Issue 16 asks for it as "the
 * reference to beat". Returns a record figures.ts reads like a camgw run's.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import { REPO_ROOT } from "../testing/gateway-process.js";
import type { CallRecord } from "./figures.js";
import type { GatewaySample } from "./metrics-sampler.js";
import { readMessages, writeMessage, type ReferenceMessage } from "./reference-messages.js";
import type { ReferenceViewerReport } from "./reference-report.js";
import { playSteps } from "./run-scenario.js";
import { LAB_STREAM, type Scenario, type StreamSettings } from "./scenarios.js";

export interface ReferenceRun extends CallRecord {
  sender: "libwebrtc";
  reports: ReferenceViewerReport[];
  /** The encoded picture size whenever it changed: libwebrtc scales down under pressure. */
  sizes: { atS: number; size: string }[];
  /** Both processes' stderr and stray output. */
  log: string;
}

/** The compiled entry points (the lab spawns node on them in its namespaces). */
const entry = (name: string): string =>
  join(REPO_ROOT, "build", "gateway", "src", "congestion-lab", `${name}.js`);

/** How long connecting may take before the run fails, ms. */
const CONNECT_TIMEOUT_MS = 20_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One of the two processes, with its messages. */
class Peer {
  readonly #child: ChildProcess;
  readonly exited: Promise<number | null>;
  log = "";

  constructor(
    lab: NetLab,
    site: string,
    name: string,
    arg: unknown,
    onMessage: (m: ReferenceMessage) => void,
  ) {
    this.#child = lab.spawn(site, process.execPath, [entry(name), JSON.stringify(arg)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
    if (this.#child.stdout) {
      readMessages(this.#child.stdout, onMessage, (line) => (this.log += `${name}: ${line}\n`));
    }
    this.#child.stderr?.on("data", (c: Buffer) => (this.log += `${name}: ${c.toString()}`));
    this.#child.stdin?.on("error", () => undefined);
  }

  send(m: ReferenceMessage): void {
    if (this.#child.stdin?.writable) writeMessage(this.#child.stdin, m);
  }

  /** Asks it to stop, then ends it if it has not within `graceMs`. Safe to call twice. */
  async close(graceMs = 3000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.send({ type: "stop" });
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function runReferenceCall(
  lab: NetLab,
  scenario: Scenario,
  stream: StreamSettings = LAB_STREAM,
): Promise<ReferenceRun> {
  const site = scenario.viewers[0]?.site ?? "viewer1";
  await lab.set(scenario.initial);
  const samples: GatewaySample[] = [];
  const sizes: { at: number; size: string }[] = [];
  const errors: string[] = [];
  let connected = (): void => undefined;
  const isConnected = new Promise<void>((resolve) => (connected = resolve));
  let reported = (_r: ReferenceViewerReport): void => undefined;
  const report = new Promise<ReferenceViewerReport>((resolve) => (reported = resolve));

  const peers: { sender?: Peer; receiver?: Peer } = {};
  const common = (m: ReferenceMessage): void => {
    if (m.type === "error") errors.push(m.message);
  };
  peers.receiver = new Peer(lab, site, "reference-receiver", stream, (m) => {
    common(m);
    if (m.type === "description" || m.type === "candidate") peers.sender?.send(m);
    if (m.type === "connected") connected();
    if (m.type === "report") reported(m.report);
  });
  peers.sender = new Peer(
    lab,
    "board",
    "reference-sender",
    { width: stream.width, height: stream.height, fps: stream.fps, maxKbps: stream.bitrateKbps },
    (m) => {
      common(m);
      if (m.type === "description" || m.type === "candidate") peers.receiver?.send(m);
      if (m.type === "sample") {
        samples.push({
          at: m.sample.at ?? Date.now(),
          bytesSent: m.sample.bytesSent ?? Number.NaN,
          frames: m.sample.frames ?? Number.NaN,
          encoderTargetKbps: m.sample.encoderTargetKbps ?? Number.NaN,
          lowestEstimateBps: m.sample.lowestEstimateBps ?? Number.NaN,
          // libwebrtc has one encoding per peer connection: no second one.
          lowEncoderTargetKbps: 0,
          viewersOnLowEncoding: 0,
        });
        if (m.size && sizes.at(-1)?.size !== m.size) sizes.push({ at: Date.now(), size: m.size });
      }
    },
  );
  const { sender, receiver } = peers;
  const logs = (): string => `${errors.join("\n")}\n${sender.log}${receiver.log}`;
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the reference call did not connect in 20 s:\n${logs()}`)),
        CONNECT_TIMEOUT_MS,
      );
    });
    const died = Promise.race([sender.exited, receiver.exited]).then((code) => {
      throw new Error(`a reference process ended (${code}) before connecting:\n${logs()}`);
    });
    await Promise.race([isConnected, timeout, died]).finally(() => clearTimeout(timer));
    const startedAt = Date.now();
    await playSteps(lab, scenario, startedAt);
    await sleep(Math.max(0, startedAt + scenario.seconds * 1000 - Date.now()));
    receiver.send({ type: "stop" });
    const viewer = await Promise.race([
      report,
      receiver.exited.then((code) => {
        throw new Error(`the reference viewer ended (${code}) without a report:\n${logs()}`);
      }),
    ]);
    return {
      sender: "libwebrtc",
      scenario,
      startedAt,
      samples,
      reports: [viewer],
      sizes: sizes.map((s) => ({ atS: Math.round((s.at - startedAt) / 100) / 10, size: s.size })),
      log: logs(),
    };
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
    await lab.set("");
  }
}
