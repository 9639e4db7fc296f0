/**
 * A viewer whose only candidates are mDNS names the board cannot resolve,
 * behind a slow broker, connects through a peer-reflexive candidate (issue
 * 15; werift patch 2, docs/werift-patches.md). Browsers hide their host
 * addresses behind `<uuid>.local` names; on a routed network (another
 * subnet, a VPN) the board cannot resolve them, so its checklist stays
 * empty and only the viewer's own checks can show it the way: RFC 8445
 * section 7.3.1.3 makes their source a peer-reflexive candidate.
 *
 * Here the board and the viewer have public addresses on two lab links
 * (routed through the lab's core, no NAT, no multicast between them), no
 * STUN or TURN, and the broker's link delays each packet BROKER_DELAY_MS
 * each way, so a signaling message from one to the other takes twice that.
 * The probe hides its host addresses as a browser does (`--mdns-candidates`)
 * and, with its servers given (none), gathers at once as a browser with no
 * servers to wait for: its candidates and end-of-candidates travel right
 * behind the offer, and reach the board a whole signaling round trip before
 * the viewer's first check can (it needs the answer). werift 0.24.4 gave up
 * the moment that end-of-candidates arrived (`bye ice-failed`). Times are
 * printed, never asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNetLab, type NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import { ensureLinkemBuilt } from "../../../firmware-sim/src/net/test-support.js";
import { assertBuilt } from "../testing/gateway-process.js";
import { brokerConnected, gatewayPath, settledSessions } from "./lab-gateway.js";

/** The broker's link delay each way: board <-> viewer signaling takes 1 s one way. */
const BROKER_DELAY_MS = 500;
const DEVICE_ID = "mdns-viewer";

let lab: NetLab | undefined;

beforeAll(async () => {
  assertBuilt();
  ensureLinkemBuilt();
  lab = await startNetLab({
    boardNat: "none",
    viewerNats: ["none"],
    turn: false,
    conditions: `broker:delay=${BROKER_DELAY_MS}ms`,
  });
}, 120_000);

afterAll(async () => {
  await lab?.close();
});

describe("a viewer with only unresolvable mDNS candidates and a slow broker", () => {
  it("connects and plays through a peer-reflexive candidate", { timeout: 120_000 }, async () => {
    const theLab = lab;
    if (!theLab) throw new Error("the lab did not start");
    const gateway = await theLab.startGateway({ args: ["--device-id", DEVICE_ID] });
    try {
      await brokerConnected(theLab, gateway);
      const report = await theLab.probe("viewer1", {
        deviceId: DEVICE_ID,
        seconds: 5,
        args: [
          "--ice-servers",
          "none",
          "--mdns-candidates",
          "--frames",
          "30",
          "--no-decode",
          "--no-recover",
        ],
      });
      const log = gateway.output();
      const path = gatewayPath(log, report.viewerId);
      const what = JSON.stringify({ report, path, log: log.split("\n").slice(-30) });
      expect(report.ended, what).toBeNull();
      expect(report.video, what).toBe(true);
      expect(report.frames, what).toBeGreaterThanOrEqual(30);
      expect(report.iceServers, what).toBe("given");
      // The viewer reached the board's host address; the board knows the
      // viewer only from its checks.
      expect(report.candidatePair?.local.type, what).toBe("host");
      expect(report.candidatePair?.remote.type, what).toBe("host");
      expect(path, what).toMatch(/^host \S+ -> prflx /);
      expect(await settledSessions(theLab, gateway), what).toBe(0);
      console.log(
        `mDNS-only viewer, broker ${BROKER_DELAY_MS} ms each way: answer ${Math.round(
          report.answerMs ?? 0,
        )} ms, first frame ${Math.round(report.timeToFirstFrameMs ?? 0)} ms (gateway: ${path ?? "?"})`,
      );
    } finally {
      await gateway.stop();
    }
  });
});
