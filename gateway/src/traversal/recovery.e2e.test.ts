/**
 * Recovery in the network lab (docs/signaling.md, "Recovery"): the virtual
 * board behind a home router (eim), a `camgw probe` viewer behind another,
 * STUN and a plain turn: URL from the lab's coturn, the viewer's servers
 * given by the gateway. While it plays, the board's address changes (a DHCP
 * renew to a new lease) or its internet link is cut for 5 s; the viewer
 * must get video again by itself, and keep it until the watch ends a few
 * seconds later. How long that took is printed, never asserted (`make
 * bench` is where speed lives).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNetLab, type NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import { ensureLinkemBuilt } from "../../../firmware-sim/src/net/test-support.js";
import { viewersConnected } from "./lab-gateway.js";
import type { ProbeReport } from "../probe/probe.js";
import { assertBuilt } from "../testing/gateway-process.js";

let lab: NetLab | undefined;

beforeAll(async () => {
  assertBuilt();
  ensureLinkemBuilt();
  lab = await startNetLab({ boardNat: "eim", viewerNats: ["eim"] });
}, 120_000);

afterAll(async () => {
  await lab?.close();
});

function theLab(): NetLab {
  if (!lab) throw new Error("the lab did not start");
  return lab;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Video plays on this long after it came back, before the watch ends (its report says the rest). */
const PLAY_ON_MS = 3000;

/**
 * A viewer that plays while `disturb` runs once it plays, until video came
 * back after the disturbance and PLAY_ON_MS more, or 30 s at the latest.
 */
async function watchThrough(
  lab: NetLab,
  deviceId: string,
  disturb: () => Promise<void>,
): Promise<{ report: ProbeReport; log: string }> {
  const ice = lab.gatewayIce(["stun", "turn"]);
  const gateway = await lab.startGateway({
    env: ice.env,
    args: [...ice.args, "--device-id", deviceId],
  });
  try {
    const stop = new AbortController();
    let disturbedAt = Infinity;
    let backAfterDisturbance = (): void => undefined;
    const back = new Promise<void>((resolve) => (backAfterDisturbance = resolve));
    const watching = lab.probe("viewer1", {
      deviceId,
      seconds: 30,
      args: ["--no-decode"],
      signal: stop.signal,
      onEvent: (event) => {
        if (event.event === "recovered" && event.at >= disturbedAt) backAfterDisturbance();
      },
    });
    await viewersConnected(gateway, 1);
    await sleep(2000);
    disturbedAt = Date.now();
    await disturb();
    await Promise.race([back.then(() => sleep(PLAY_ON_MS)), watching]);
    stop.abort();
    const report = await watching;
    return { report, log: gateway.output() };
  } finally {
    await gateway.stop();
  }
}

describe("a playing viewer in the network lab", () => {
  it("gets video back by itself when the board's address changes", async () => {
    const { report, log } = await watchThrough(theLab(), "recover-renew", async () => {
      await theLab().renewAddress("board");
    });
    const what = JSON.stringify({ report, log: log.split("\n").slice(-30) });
    console.log(`board address change: recoveries ${JSON.stringify(report.recoveries)}`);
    expect(report.video, what).toBe(true);
    expect(report.ended, what).toBeNull();
    expect(report.recoveries.length, what).toBeGreaterThanOrEqual(1);
    expect(log, what).toMatch(/network: addresses changed/);
  }, 120_000);

  it("gets video back by itself after the board's link is down for 5 s", async () => {
    const { report, log } = await watchThrough(theLab(), "recover-drop", async () => {
      await theLab().linkDown("board");
      await sleep(5000);
      await theLab().linkUp("board");
    });
    const what = JSON.stringify({ report, log: log.split("\n").slice(-30) });
    console.log(`5 s link drop: recoveries ${JSON.stringify(report.recoveries)}`);
    expect(report.video, what).toBe(true);
    expect(report.ended, what).toBeNull();
    expect(report.recoveries.length, what).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
