/**
 * Recovery in the network lab (recovery.ts says the scenarios): while a
 * probe viewer plays, the board's address changes, its internet link is
 * cut for 5 s, or the broker is down for 5 s; the viewer must get
 * video again by itself (or never lose it), and keep it until the watch
 * ends a few seconds later. How long that took is printed, never asserted
 * (`make bench`, part recovery, is where speed lives).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import { ensureLinkemBuilt } from "../../../firmware-sim/src/net/test-support.js";
import { assertBuilt } from "../testing/gateway-process.js";
import {
  ADDRESS_CHANGE,
  BROKER_OUTAGE,
  LINK_DROP,
  recoveryFigures,
  startRecoveryLab,
  watchThrough,
  type RecoveryWatch,
} from "./recovery.js";

let lab: NetLab | undefined;

beforeAll(async () => {
  assertBuilt();
  ensureLinkemBuilt();
  lab = await startRecoveryLab();
}, 120_000);

afterAll(async () => {
  await lab?.close();
});

function theLab(): NetLab {
  if (!lab) throw new Error("the lab did not start");
  return lab;
}

function described(watch: RecoveryWatch): string {
  return JSON.stringify({
    report: watch.report,
    events: watch.events,
    log: watch.log.split("\n").slice(-30),
  });
}

describe("a playing viewer in the network lab", () => {
  it("gets video back by itself when the board's address changes", async () => {
    const watch = await watchThrough(theLab(), "recover-renew", ADDRESS_CHANGE);
    const what = described(watch);
    console.log(`board address change: ${JSON.stringify(recoveryFigures(watch))}`);
    expect(watch.report.video, what).toBe(true);
    expect(watch.report.ended, what).toBeNull();
    expect(watch.recovered, what).not.toBeNull();
    expect(watch.log, what).toMatch(/network: addresses changed/);
  }, 120_000);

  it("gets video back by itself after the board's link is down for 5 s", async () => {
    const watch = await watchThrough(theLab(), "recover-drop", LINK_DROP);
    const what = described(watch);
    console.log(`5 s link drop: ${JSON.stringify(recoveryFigures(watch))}`);
    expect(watch.report.video, what).toBe(true);
    expect(watch.report.ended, what).toBeNull();
    expect(watch.recovered, what).not.toBeNull();
  }, 120_000);

  it("keeps its call and its video through 5 s without the broker", async () => {
    const watch = await watchThrough(theLab(), "recover-broker", BROKER_OUTAGE);
    const what = described(watch);
    const figures = recoveryFigures(watch);
    console.log(`5 s broker outage: ${JSON.stringify(figures)}`);
    expect(watch.report.ended, what).toBeNull();
    // Media does not pass through the broker: the call plays on, or (on a
    // stall nothing to do with the broker) comes back by itself.
    expect(figures.method, what).not.toBe("not recovered");
    expect(watch.log, what).toMatch(/signaling: connected to .* \(back after/);
  }, 120_000);
});
