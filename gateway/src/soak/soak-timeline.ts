import { writeFileSync } from "node:fs";
import type { GatewayProcess } from "../testing/gateway-process.js";
import type { Mosquitto } from "../testing/mosquitto.js";
import { sampleGateway, type GatewaySample } from "./gateway-sampler.js";
import { HostStalls } from "./host-stalls.js";
import type { Disruption } from "./recovery-budget.js";
import { clock, tableHeader, tableRow, type ViewerTally } from "./report-table.js";
import type { SoakLog } from "./soak-log.js";
import type { SoakPlan, ViewerVisit } from "./soak-plan.js";
import { SoakViewer, type ViewerLogin } from "./soak-viewer.js";
import { judgeViewer } from "./viewer-verdict.js";

/**
 * Plays a soak plan against a running gateway: faults through the control
 * file, Mosquitto stopped and started, viewers joining and leaving (each
 * judged as it leaves), and a sample of the gateway printed as a table row
 * every `sampleMs`. Returns what happened; problems found on the way are
 * pushed to `problems`.
 */
export interface TimelineParts {
  plan: SoakPlan;
  gw: GatewayProcess;
  mosquitto: Mosquitto;
  /** The firmware-sim control file. */
  control: string;
  /** One login per viewer slot. */
  logins: readonly ViewerLogin[];
  sampleMs: number;
  log: SoakLog;
  /** The viewers and timers running, for a teardown (Ctrl-C) to end. */
  viewers: Set<SoakViewer>;
  timers: Set<ReturnType<typeof setTimeout>>;
  /** True once the soak takes everything down: the gateway's exit is expected then. */
  tearingDown: () => boolean;
}

export interface Outcome {
  samples: GatewaySample[];
  disruptions: Disruption[];
  tally: ViewerTally;
  gatewayDied: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long a viewer has to start before an exit counts as a refused join. */
const JOIN_WINDOW_MS = 5000;

export async function runTimeline(p: TimelineParts, problems: string[]): Promise<Outcome> {
  const { plan, gw, log } = p;
  const t0 = Date.now();
  log.start();
  const disruptions: Disruption[] = [];
  const ongoing = new Set<Disruption>();
  const samples: GatewaySample[] = [];
  const tally: ViewerTally = { viewers: 0, freezes: 0, overBudget: 0, recoveries: 0 };
  const pending = new Set<Promise<void>>();
  const past = { recoveries: 0 };
  // Set from the gateway's exit event.
  const gateway = { died: false };
  const problem = (text: string): void => {
    problems.push(text);
    log.line("soak", `PROBLEM ${text}`);
  };
  const at = (ms: number, action: () => Promise<void>): void => {
    const timer = setTimeout(
      () => {
        p.timers.delete(timer);
        const done = action().catch((err: unknown) => {
          problem(`soak action failed: ${err instanceof Error ? err.message : String(err)}`);
        });
        pending.add(done);
        void done.finally(() => pending.delete(done));
      },
      Math.max(0, t0 + ms - Date.now()),
    );
    p.timers.add(timer);
  };
  const begin = (d: Pick<Disruption, "kind" | "label">): Disruption => {
    const full = { ...d, startAt: Date.now(), endAt: Number.POSITIVE_INFINITY };
    disruptions.push(full);
    ongoing.add(full);
    log.line("soak", `${d.label}: on`);
    return full;
  };
  const end = (d: Disruption): void => {
    d.endAt = Date.now();
    ongoing.delete(d);
    log.line("soak", `${d.label}: off after ${((d.endAt - d.startAt) / 1000).toFixed(1)} s`);
  };
  const hostStalls = new HostStalls((stall) => {
    disruptions.push(stall);
    log.line("soak", stall.label, stall.startAt);
  });

  for (const f of plan.faults) {
    at(f.atMs, async () => {
      const d = begin({ kind: f.kind, label: f.spec });
      writeFileSync(p.control, f.spec);
      await sleep(f.onMs);
      writeFileSync(p.control, "");
      end(d);
    });
  }
  for (const b of plan.brokerRestarts) {
    at(b.atMs, async () => {
      const d = begin({ kind: "broker", label: "broker down" });
      await p.mosquitto.stop();
      await sleep(b.downMs);
      await p.mosquitto.start();
      end(d);
    });
  }

  /** Starts a viewer; retries a join refused because the device was not online yet. */
  const join = async (v: ViewerVisit, name: string): Promise<SoakViewer | undefined> => {
    const login = p.logins[v.slot];
    if (!login) return undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const viewer = new SoakViewer(v.slot, login);
      p.viewers.add(viewer);
      tally.viewers++;
      log.line("soak", `${name} joins (pid ${viewer.pid})`);
      await Promise.race([viewer.exited, sleep(JOIN_WINDOW_MS)]);
      if (viewer.running) return viewer;
      const o = await viewer.stop();
      p.viewers.delete(viewer);
      tally.viewers--;
      if (o.kind === "report") {
        for (const x of judgeViewer(name, o.report, true, disruptions, t0).problems) problem(x);
        return undefined;
      }
      if (!/offline|not known|broker/i.test(o.output)) {
        problem(`${name} could not join at ${clock(Date.now() - t0)}: ${o.output}`);
        return undefined;
      }
      log.line("soak", `${name} refused (${o.output.split("\n")[0] ?? ""}); trying again`);
      await sleep(2000);
    }
    problem(`${name} could not join from ${clock(v.joinAtMs)}: the device was not online`);
    return undefined;
  };

  const visit = async (v: ViewerVisit): Promise<void> => {
    const name = `viewer ${v.slot}`;
    const viewer = await join(v, name);
    if (!viewer) return;
    await Promise.race([sleep(Math.max(0, t0 + v.leaveAtMs - Date.now())), viewer.exited]);
    const early = !viewer.running;
    const o = await viewer.stop();
    past.recoveries += viewer.recoveries;
    p.viewers.delete(viewer);
    tally.viewers--;
    if (o.kind === "no-report") {
      problem(`${name} gave no report (exit ${o.code ?? "signal"}): ${o.output}`);
      return;
    }
    const r = o.report;
    const verdict = judgeViewer(name, r, early, disruptions, t0);
    tally.freezes += verdict.freezes.length;
    tally.overBudget += verdict.freezes.filter((f) => f.overMs > 0).length;
    log.line(
      "soak",
      `${name} leaves: ${r.frames} frames, ${r.fps} fps, ${r.freezes} freezes (longest ${r.longestFreezeMs} ms), ${r.decodeErrors} decode errors, ${r.recoveries.length} recoveries${r.ended ? `, ended: ${r.ended}` : ""}`,
    );
    for (const f of verdict.freezes) {
      if (f.endAt - f.startAt < 1000) continue;
      log.line(
        "soak",
        `${name} froze ${((f.endAt - f.startAt) / 1000).toFixed(1)} s (cause ${f.cause}, ${f.overMs > 0 ? `${(f.overMs / 1000).toFixed(1)} s late` : "in time"})`,
        f.startAt,
      );
    }
    for (const x of verdict.problems) problem(x);
  };
  for (const v of plan.visits) at(v.joinAtMs, () => visit(v));

  gw.child.once("exit", (code, signal) => {
    if (p.tearingDown()) return;
    gateway.died = true;
    problem(`the gateway exited during the soak (${code ?? signal ?? "?"})`);
  });

  console.log(tableHeader());
  const sampleOnce = async (): Promise<void> => {
    try {
      const s = await sampleGateway(
        gw.pid,
        `${gw.httpUrl}metrics`,
        Date.now() - t0,
        samples.at(-1),
      );
      samples.push(s);
      tally.recoveries = past.recoveries + [...p.viewers].reduce((sum, v) => sum + v.recoveries, 0);
      const row = tableRow(s, tally, [...ongoing].map((d) => d.label).join(", "));
      console.log(row);
      log.line("soak", row);
      log.line(
        "soak",
        Object.entries(s.diagnostics)
          .map(([k, v]) => `${k.replace(/^camgw_/, "")}=${v}`)
          .join(" "),
      );
    } catch (err) {
      if (!gateway.died)
        problem(`sampling failed at ${clock(Date.now() - t0)}: ${(err as Error).message}`);
    }
  };
  try {
    for (let t = p.sampleMs; t <= plan.durationMs && !gateway.died; t += p.sampleMs) {
      await sleep(Math.max(0, t0 + t - Date.now()));
      await sampleOnce();
    }
    // The viewers leaving at the end, and anything still under way.
    while ((pending.size > 0 || p.timers.size > 0) && !gateway.died)
      await Promise.race([...pending, sleep(500)]);
  } finally {
    hostStalls.close();
  }
  return { samples, disruptions, tally, gatewayDied: gateway.died };
}
