import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CAMGW_BIN,
  REPO_ROOT,
  startGateway,
  type GatewayProcess,
} from "../testing/gateway-process.js";
import { Mosquitto, freePort } from "../testing/mosquitto.js";
import { sampleGateway, type GatewaySample } from "./gateway-sampler.js";
import { judgeGrowth, type GrowthLimit, type GrowthVerdict } from "./growth-verdict.js";
import { BUDGETS, type Disruption } from "./recovery-budget.js";
import { clock, growthLine, tableHeader, tableRow, type ViewerTally } from "./report-table.js";
import { FAULT_KINDS, planSoak, type SoakPlan, type ViewerVisit } from "./soak-plan.js";
import { SoakViewer, type ViewerLogin } from "./soak-viewer.js";
import { judgeViewer } from "./viewer-verdict.js";

/**
 * `make soak`: months of a camera nobody looks at, compressed into minutes.
 * The real `camgw run` on the virtual board (pi4: camera and hardware
 * encoder) behind Debian's Mosquitto set up with `camgw broker-config`;
 * viewers (`camgw probe` processes) join and leave, every firmware-sim fault
 * comes at random, Mosquitto restarts. The gateway's RSS, fds, threads,
 * handles, timers and event-loop delay are sampled and printed as a table.
 * Fails (exit 1) when one of them grows, or a viewer stays frozen past its
 * recovery budget (recovery-budget.ts), loses its call or never plays.
 *
 * Environment: SOAK_MINUTES (default 20), SOAK_SEED (replays a schedule;
 * default random, printed), SOAK_VIEWERS (viewer slots, default 3),
 * SOAK_SAMPLE_S (seconds between samples, default 10).
 */

const run = promisify(execFile);
const DEVICE = "soak";

/** Growth that fails the soak, per figure (growth-verdict.ts: the trend the viewers do not explain). */
const LIMITS: { key: keyof GatewaySample; limit: GrowthLimit }[] = [
  { key: "rssMb", limit: { name: "RSS", unit: " MB", absolute: 30, relative: 0.2 } },
  { key: "fds", limit: { name: "fds", unit: "", absolute: 8 } },
  { key: "threads", limit: { name: "threads", unit: "", absolute: 2 } },
  { key: "handles", limit: { name: "handles", unit: "", absolute: 16 } },
  { key: "timers", limit: { name: "timers", unit: "", absolute: 16 } },
  { key: "lagP99Ms", limit: { name: "lag p99", unit: " ms", absolute: 50 } },
];

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new RangeError(`${name}=${raw}: give a number from ${min} to ${max}`);
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Everything the soak started, so any exit (Ctrl-C included) can take it down. */
interface Running {
  dir: string;
  gw?: GatewayProcess;
  mosquitto?: Mosquitto;
  viewers: Set<SoakViewer>;
  timers: Set<ReturnType<typeof setTimeout>>;
  /** Set when the soak takes everything down: the gateway's exit is expected then. */
  tearingDown: boolean;
}

async function tearDown(r: Running): Promise<void> {
  r.tearingDown = true;
  for (const t of r.timers) clearTimeout(t);
  r.timers.clear();
  for (const v of r.viewers) v.kill();
  await Promise.all([...r.viewers].map((v) => v.exited));
  r.viewers.clear();
  await r.gw?.stop();
  await r.mosquitto?.close();
  await rm(r.dir, { recursive: true, force: true });
}

/** camgw in front of Mosquitto with the files `camgw broker-config mosquitto` writes. */
async function bringUp(r: Running, plan: SoakPlan, control: string): Promise<ViewerLogin[]> {
  const port = await freePort();
  const broker = `mqtt://127.0.0.1:${port}`;
  // The gateway first: its first start makes the owner and the accounts broker-config reads.
  const gw = await startGateway({
    sim: { controlFile: control, seed: plan.seed },
    args: ["--device-id", DEVICE, "--broker", broker, "--size", "640x480", "--fps", "30"],
  });
  r.gw = gw;
  const logins: ViewerLogin[] = [{ broker, deviceId: DEVICE, ...gw.owner }];
  const slots = new Set(plan.visits.map((v) => v.slot));
  for (let slot = 1; slot < slots.size; slot++) {
    const v = await gw.addViewer(`soak-${slot}`);
    logins.push({ broker, deviceId: DEVICE, username: v.username, password: v.password });
  }
  const files = join(r.dir, "broker");
  await run(process.execPath, [
    CAMGW_BIN,
    "broker-config",
    "mosquitto",
    "--out",
    files,
    "--state-dir",
    gw.stateDir,
    "--device-id",
    DEVICE,
    "--listener",
    `${port} 127.0.0.1`,
  ]);
  const settings = (await readFile(join(files, "camgw.conf"), "utf8"))
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
  mkdirSync(join(r.dir, "mosquitto"));
  r.mosquitto = await Mosquitto.start({ settings, plainPort: port, dir: join(r.dir, "mosquitto") });
  const deadline = Date.now() + 30_000;
  while (!(await metricsText(gw)).includes("\ncamgw_signaling_connected 1\n")) {
    if (Date.now() > deadline)
      throw new Error(`camgw did not connect to Mosquitto:\n${gw.output()}`);
    await sleep(200);
  }
  return logins;
}

async function metricsText(gw: GatewayProcess): Promise<string> {
  try {
    return await (await fetch(`${gw.httpUrl}metrics`)).text();
  } catch {
    return "";
  }
}

function describePlan(plan: SoakPlan): string {
  const kinds = FAULT_KINDS.map(
    (k) => `${k} ${plan.faults.filter((f) => f.kind === k).length}`,
  ).join(", ");
  return [
    `soak: ${plan.durationMs / 60_000} min, seed ${plan.seed} (replay: SOAK_SEED=${plan.seed}), warm-up ${plan.warmUpMs / 1000} s`,
    `  virtual board pi4 (camera + hardware encoder), 640x480@30, Debian Mosquitto, viewers: camgw probe`,
    `  faults: ${plan.faults.length} (${kinds})`,
    `  broker restarts: ${plan.brokerRestarts.map((b) => `${clock(b.atMs)} for ${(b.downMs / 1000).toFixed(1)} s`).join(", ") || "none"}`,
    `  viewer visits: ${plan.visits.length} over ${new Set(plan.visits.map((v) => v.slot)).size} slots (slot 0 watches throughout)`,
  ].join("\n");
}

export async function soak(): Promise<number> {
  const minutes = envNumber("SOAK_MINUTES", 20, 1, 24 * 60);
  const seed = envNumber("SOAK_SEED", randomInt(1, 2 ** 31), 0, 2 ** 32 - 1);
  const slots = envNumber("SOAK_VIEWERS", 3, 1, 7);
  const sampleMs = envNumber("SOAK_SAMPLE_S", 10, 1, 600) * 1000;
  const plan = planSoak({ seed, durationMs: Math.round(minutes * 60_000), slots });
  console.log(describePlan(plan));

  const r: Running = {
    dir: await mkdtemp(join(tmpdir(), "camgw-soak-")),
    viewers: new Set(),
    timers: new Set(),
    tearingDown: false,
  };
  // Set from the signal handler: an object, so reads after an await see it.
  const state = { interrupted: false };
  const onSignal = (): void => {
    state.interrupted = true;
    console.log("\nsoak: interrupted; stopping the gateway, Mosquitto and the viewers");
    void tearDown(r).then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const problems: string[] = [];
  try {
    const control = join(r.dir, "faults");
    await writeFile(control, "");
    const logins = await bringUp(r, plan, control);
    const gw = r.gw as GatewayProcess;
    const mosquitto = r.mosquitto as Mosquitto;
    console.log(`  gateway pid ${gw.pid}, broker ${logins[0]?.broker ?? ""}\n`);
    const outcome = await runTimeline(r, plan, logins, gw, mosquitto, control, sampleMs, problems);
    if (state.interrupted) return 130;
    return report(plan, outcome, problems, gw);
  } catch (err) {
    if (state.interrupted) return 130;
    console.log(`soak: FAILED to run: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (!state.interrupted) await tearDown(r);
  }
}

interface Outcome {
  samples: GatewaySample[];
  disruptions: Disruption[];
  tally: ViewerTally;
  visits: number;
  gatewayDied: boolean;
}

async function runTimeline(
  r: Running,
  plan: SoakPlan,
  logins: readonly ViewerLogin[],
  gw: GatewayProcess,
  mosquitto: Mosquitto,
  control: string,
  sampleMs: number,
  problems: string[],
): Promise<Outcome> {
  const t0 = Date.now();
  const disruptions: Disruption[] = [];
  const ongoing = new Set<Disruption>();
  const samples: GatewaySample[] = [];
  const tally: ViewerTally = { viewers: 0, freezes: 0, overBudget: 0, recoveries: 0 };
  const pending = new Set<Promise<void>>();
  let pastRecoveries = 0;
  // Set from the gateway's exit event.
  const gateway = { died: false };
  const at = (ms: number, action: () => Promise<void>): void => {
    const timer = setTimeout(
      () => {
        r.timers.delete(timer);
        const p = action().catch((err: unknown) => {
          problems.push(`soak action failed: ${err instanceof Error ? err.message : String(err)}`);
        });
        pending.add(p);
        void p.finally(() => pending.delete(p));
      },
      Math.max(0, t0 + ms - Date.now()),
    );
    r.timers.add(timer);
  };
  const begin = (d: Omit<Disruption, "startAt" | "endAt">): Disruption => {
    const full = { ...d, startAt: Date.now(), endAt: Number.POSITIVE_INFINITY };
    disruptions.push(full);
    ongoing.add(full);
    return full;
  };
  const end = (d: Disruption): void => {
    d.endAt = Date.now();
    ongoing.delete(d);
  };

  for (const f of plan.faults) {
    at(f.atMs, async () => {
      const d = begin({ kind: f.kind, label: f.spec });
      writeFileSync(control, f.spec);
      await sleep(f.onMs);
      writeFileSync(control, "");
      end(d);
    });
  }
  for (const b of plan.brokerRestarts) {
    at(b.atMs, async () => {
      const d = begin({ kind: "broker", label: "broker down" });
      await mosquitto.stop();
      await sleep(b.downMs);
      await mosquitto.start();
      end(d);
    });
  }
  const visit = (v: ViewerVisit): void => {
    const login = logins[v.slot];
    if (!login) return;
    at(v.joinAtMs, async () => {
      const name = `viewer ${v.slot}`;
      // A join refused because the device was not yet online again is tried once more a little later.
      let viewer: SoakViewer | undefined;
      for (let attempt = 0; attempt < 5 && !viewer; attempt++) {
        const candidate = new SoakViewer(v.slot, login);
        r.viewers.add(candidate);
        tally.viewers++;
        const early = await Promise.race([
          candidate.exited.then(() => true),
          sleep(5000).then(() => false),
        ]);
        if (!early) {
          viewer = candidate;
          break;
        }
        const o = await candidate.stop();
        r.viewers.delete(candidate);
        tally.viewers--;
        if (o.kind === "report") {
          problems.push(...judgeViewer(name, o.report, true, disruptions, t0).problems);
          return;
        }
        if (!/offline|not known|broker/i.test(o.output)) {
          problems.push(`${name} could not join at ${clock(Date.now() - t0)}: ${o.output}`);
          return;
        }
        await sleep(2000);
      }
      if (!viewer) {
        problems.push(
          `${name} could not join from ${clock(v.joinAtMs)}: the device was not online`,
        );
        return;
      }
      const left = Math.max(0, t0 + v.leaveAtMs - Date.now());
      await Promise.race([sleep(left), viewer.exited]);
      const early = !viewer.running;
      const o = await viewer.stop();
      pastRecoveries += viewer.recoveries;
      r.viewers.delete(viewer);
      tally.viewers--;
      if (o.kind === "no-report") {
        problems.push(`${name} gave no report (exit ${o.code}): ${o.output}`);
        return;
      }
      const verdict = judgeViewer(name, o.report, early, disruptions, t0);
      tally.freezes += verdict.freezes.length;
      tally.overBudget += verdict.freezes.filter((f) => f.overMs > 0).length;
      problems.push(...verdict.problems);
    });
  };
  for (const v of plan.visits) visit(v);

  gw.child.once("exit", (code, signal) => {
    if (r.tearingDown) return;
    gateway.died = true;
    problems.push(`the gateway exited during the soak (${code ?? signal})`);
  });

  console.log(tableHeader());
  const sampleOnce = async (): Promise<void> => {
    try {
      const s = await sampleGateway(gw.pid, `${gw.httpUrl}metrics`, Date.now() - t0);
      samples.push(s);
      tally.recoveries = pastRecoveries + [...r.viewers].reduce((sum, v) => sum + v.recoveries, 0);
      const now = [...ongoing].map((d) => d.label).join(", ");
      console.log(tableRow(s, tally, now));
    } catch (err) {
      if (!gateway.died)
        problems.push(`sampling failed at ${clock(Date.now() - t0)}: ${(err as Error).message}`);
    }
  };
  for (let t = sampleMs; t <= plan.durationMs && !gateway.died; t += sampleMs) {
    await sleep(Math.max(0, t0 + t - Date.now()));
    await sampleOnce();
  }
  // The viewers leaving at the end, and anything still under way.
  while (pending.size > 0 || r.timers.size > 0) {
    if (gateway.died) break;
    await Promise.race([...pending, sleep(500)]);
  }
  return { samples, disruptions, tally, visits: plan.visits.length, gatewayDied: gateway.died };
}

function report(plan: SoakPlan, outcome: Outcome, problems: string[], gw: GatewayProcess): number {
  const judged = outcome.samples.filter((s) => s.t >= plan.warmUpMs);
  const verdicts: GrowthVerdict[] = LIMITS.map(({ key, limit }) =>
    judgeGrowth(
      judged.map((s) => ({ t: s.t, value: s[key], sessions: s.sessions })),
      limit,
    ),
  );
  const logDir = join(REPO_ROOT, "build", "soak");
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `gateway-${plan.seed}.log`);
  writeFileSync(logFile, gw.output());

  console.log(
    `\nfaults done: ${outcome.disruptions.filter((d) => d.kind !== "broker").length}, broker restarts: ${outcome.disruptions.filter((d) => d.kind === "broker").length}, viewer visits: ${outcome.visits}, freezes ${outcome.tally.freezes} (${outcome.tally.overBudget} past budget), recoveries ${outcome.tally.recoveries}`,
  );
  console.log(
    `growth after warm-up (${judged.length} samples; trend = least squares over time with the sessions as a regressor):`,
  );
  for (const v of verdicts) console.log(growthLine(v));
  console.log("recovery budgets (recovery-budget.ts):");
  for (const [kind, b] of Object.entries(BUDGETS))
    console.log(`  ${kind.padEnd(9)} ${(b.ms / 1000).toFixed(0)} s from the ${b.from}: ${b.why}`);
  console.log(`gateway log: ${logFile}`);
  const grew = verdicts.filter((v) => v.failed).map((v) => `${v.limit.name} grew`);
  const all = [...grew, ...problems];
  if (judged.length < 6)
    all.push(`only ${judged.length} samples after warm-up: too few to judge growth`);
  if (all.length === 0) {
    console.log(`\nsoak: PASSED (seed ${plan.seed})`);
    return 0;
  }
  console.log(`\nsoak: FAILED (seed ${plan.seed})`);
  for (const p of all) console.log(`  - ${p}`);
  return 1;
}
