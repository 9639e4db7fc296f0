/**
 * Recovery in the network lab (docs/signaling.md, "Recovery"): the virtual
 * board behind a home router (eim), a `camgw probe` viewer behind another,
 * STUN and a plain turn: URL from the lab's coturn, the viewer's servers
 * given by the gateway. While it plays, the board's address changes (a DHCP
 * renew to a new lease) or its internet link is cut for 5 s; the viewer
 * must get video again by itself. How long that took is printed, never
 * asserted (`make bench` is where speed lives).
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

/** A viewer that plays for `seconds` while `disturb` runs once it plays. */
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
    const watching = lab.probe("viewer1", { deviceId, seconds: 30, args: ["--no-decode"] });
    await viewersConnected(gateway, 1);
    await sleep(2000);
    await disturb();
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
