/**
 * Runs one scenario (scenarios.ts) in a network lab: a gateway on the board
 * (pi5 profile, realistic scene, x264), `camgw probe --timeline` viewers,
 * the link steps on schedule, /metrics sampled every second. Returns the
 * raw record; figures.ts turns it into figures. The lab is the caller's and
 * is left with no conditions.
 */
import type { NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import type { ProbeReport } from "../probe/probe.js";
import { gatewayGet, viewersConnected } from "../traversal/lab-gateway.js";
import type { GatewayProcess } from "../testing/gateway-process.js";
import type { CallRecord, ViewerRecord } from "./figures.js";
import { MetricsSampler, type GatewaySample } from "./metrics-sampler.js";
import { LAB_STREAM, type LabViewer, type Scenario, type StreamSettings } from "./scenarios.js";

/**
 * Watches the call from a viewer's site for `seconds` (from when it starts
 * connecting); resolves with what it saw. The default is `camgw probe`;
 * a bench may watch from Chromium instead.
 */
export type Watcher<R extends ViewerRecord> = (
  viewer: LabViewer,
  call: { deviceId: string; gateway: GatewayProcess; seconds: number },
) => Promise<R>;

export interface ScenarioRun<R extends ViewerRecord = ProbeReport> extends CallRecord {
  sender: "camgw";
  scenario: Scenario;
  stream: StreamSettings;
  /** When the last viewer connected, ms since the epoch: second 0 of the schedule. */
  startedAt: number;
  /** When each step had applied, ms since the epoch. */
  stepsAt: number[];
  samples: GatewaySample[];
  /** One per viewer, in the scenario's order. */
  reports: R[];
  /** The gateway's log. */
  log: string;
  /** The gateway's /metrics once the viewers were done (repair, key frame and pacer counters). */
  finalMetrics: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Seconds the viewers watch beyond the schedule: connecting takes a moment. */
export const WATCH_LEAD_S = 4;

let runs = 0;

/** Applies the scenario's link steps on schedule from `startedAt`; resolves with when each applied. */
export async function playSteps(
  lab: NetLab,
  scenario: Scenario,
  startedAt: number,
): Promise<number[]> {
  const stepsAt: number[] = [];
  for (const step of scenario.steps) {
    await sleep(Math.max(0, startedAt + step.atS * 1000 - Date.now()));
    await lab.set(step.spec);
    stepsAt.push(Date.now());
  }
  return stepsAt;
}

/** The scenario with `camgw probe --timeline` viewers. */
export function runScenario(
  lab: NetLab,
  scenario: Scenario,
  stream: StreamSettings = LAB_STREAM,
): Promise<ScenarioRun> {
  return runScenarioWith(lab, scenario, stream, (v, call) =>
    lab.probe(v.site, {
      deviceId: call.deviceId,
      seconds: call.seconds,
      args: ["--timeline", ...(v.rtx === false ? ["--no-rtx"] : [])],
    }),
  );
}

export async function runScenarioWith<R extends ViewerRecord>(
  lab: NetLab,
  scenario: Scenario,
  stream: StreamSettings,
  watch: Watcher<R>,
): Promise<ScenarioRun<R>> {
  const deviceId = `cc-${scenario.name.replace(/[^a-z0-9-]/gi, "")}-${process.pid}-${++runs}`;
  await lab.set(scenario.initial);
  // No STUN or TURN: the viewers' sites have no NAT (viewerNats "none"), so
  // the board's checks reach them and ICE pairs through its NAT directly.
  const gateway = await lab.startGateway({
    sim: { profile: "pi5", scene: "realistic" },
    args: [
      "--device-id",
      deviceId,
      "--size",
      `${stream.width}x${stream.height}`,
      "--fps",
      String(stream.fps),
      "--bitrate",
      String(stream.bitrateKbps),
      ...(scenario.adapt ? [] : ["--no-adapt-bitrate"]),
      ...(scenario.lowEncoding === false ? ["--no-low-encoding"] : []),
    ],
  });
  const sampler = new MetricsSampler(lab, gateway);
  try {
    const watching = scenario.viewers.map((v) =>
      watch(v, { deviceId, gateway, seconds: scenario.seconds + WATCH_LEAD_S }),
    );
    // A viewer that fails before its viewer connects is the error to show.
    const failed = Promise.all(watching).then(() => new Promise<never>(() => undefined));
    await Promise.race([viewersConnected(gateway, scenario.viewers.length), failed]);
    const startedAt = Date.now();
    const stepsAt = await playSteps(lab, scenario, startedAt);
    const reports = await Promise.all(watching);
    const finalMetrics = await gatewayGet(lab, gateway, "/metrics").catch((e: unknown) =>
      String(e),
    );
    return {
      sender: "camgw",
      finalMetrics,
      scenario,
      stream,
      startedAt,
      stepsAt,
      samples: [...sampler.samples],
      reports,
      log: gateway.output(),
    };
  } finally {
    await sampler.close();
    await gateway.stop();
    await lab.set("");
  }
}
