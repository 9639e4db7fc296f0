import { randomInt } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, startGateway, type GatewayProcess } from "../testing/gateway-process.js";
import { Mosquitto } from "../testing/mosquitto.js";
import { freePort } from "../testing/ports.js";
import { judgeGrowth, type GrowthLimit, type GrowthVerdict } from "./growth-verdict.js";
import { BUDGETS } from "./recovery-budget.js";
import { clock, growthLine } from "./report-table.js";
import { SoakLog } from "./soak-log.js";
import { runTimeline, type Outcome } from "./soak-timeline.js";
import { FAULT_KINDS, planSoak, type SoakPlan } from "./soak-plan.js";
import type { SoakViewer, ViewerLogin } from "./soak-viewer.js";
import { startConfiguredMosquitto } from "../testing/configured-mosquitto.js";

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

const DEVICE = "soak";

/** Growth that fails the soak, per figure (growth-verdict.ts: the trend the viewers do not explain). */
const LIMITS: {
  key: "rssMb" | "fds" | "threads" | "handles" | "timers" | "lagP99Ms";
  limit: GrowthLimit;
}[] = [
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
  mkdirSync(join(r.dir, "mosquitto"));
  r.mosquitto = await startConfiguredMosquitto({
    stateDir: gw.stateDir,
    deviceId: DEVICE,
    port,
    filesDir: files,
    mosquittoDir: join(r.dir, "mosquitto"),
  });
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
    const log = new SoakLog(logPath(plan.seed));
    log.line("soak", `gateway pid ${gw.pid}; its output so far:`);
    for (const l of gw.output().split("\n")) if (l.trim() !== "") log.line("gateway", l);
    log.follow("gateway", gw.child.stdout);
    log.follow("gateway", gw.child.stderr);
    try {
      const outcome = await runTimeline(
        {
          plan,
          gw,
          mosquitto,
          control,
          logins,
          sampleMs,
          log,
          viewers: r.viewers,
          timers: r.timers,
          tearingDown: () => r.tearingDown,
        },
        problems,
      );
      if (state.interrupted) return 130;
      return report(plan, outcome, problems, log.path);
    } finally {
      await log.close();
    }
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

function logPath(seed: number): string {
  const dir = join(REPO_ROOT, "build", "soak");
  mkdirSync(dir, { recursive: true });
  return join(dir, `soak-${seed}.log`);
}

function report(plan: SoakPlan, outcome: Outcome, problems: string[], logFile: string): number {
  const judged = outcome.samples.filter((s) => s.t >= plan.warmUpMs);
  const verdicts: GrowthVerdict[] = LIMITS.map(({ key, limit }) =>
    judgeGrowth(
      judged.map((s) => ({
        t: s.t,
        value: s[key],
        state: [s.sessions, s.sourceRunning, s.softwareEncoder],
      })),
      limit,
    ),
  );

  console.log(
    `\nfaults done: ${outcome.disruptions.filter((d) => d.kind !== "broker").length}, broker restarts: ${outcome.disruptions.filter((d) => d.kind === "broker").length}, viewer visits: ${plan.visits.length}, freezes ${outcome.tally.freezes} (${outcome.tally.overBudget} past budget), recoveries ${outcome.tally.recoveries}`,
  );
  console.log(
    `growth after warm-up (${judged.length} samples; trend = least squares over time beside sessions, source open and x264 in use):`,
  );
  for (const v of verdicts) console.log(growthLine(v));
  console.log("recovery budgets (recovery-budget.ts):");
  for (const [kind, b] of Object.entries(BUDGETS))
    console.log(`  ${kind.padEnd(9)} ${(b.ms / 1000).toFixed(0)} s from the ${b.from}: ${b.why}`);
  const stalls = outcome.disruptions.filter((d) => d.kind === "host");
  console.log(
    `host stalls (the soak's own process not run for 300 ms or more): ${stalls.length}, longest ${Math.max(0, ...stalls.map((d) => d.endAt - d.startAt))} ms`,
  );
  console.log(`timeline (the soak's actions and the gateway's log): ${logFile}`);
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
