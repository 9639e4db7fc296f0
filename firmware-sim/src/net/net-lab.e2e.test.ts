/**
 * End to end through the lab: the real gateway (`camgw run --source sim`)
 * on the board's host behind a home NAT, signaling through the broker on
 * the lab's internet, and a headless viewer (`camgw probe`) behind another
 * home NAT. With STUN from the lab's coturn the video comes through the
 * board's server-reflexive candidate; without it there is no path at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, type GatewayProcess } from "../../../gateway/src/testing/gateway-process.js";
import { startNetLab, type NetLab } from "./net-lab.js";
import { ensureLinkemBuilt, eventually } from "./test-support.js";

describe("the virtual board behind a home NAT, watched from another", () => {
  let lab: NetLab;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    assertBuilt();
    ensureLinkemBuilt();
    lab = await startNetLab({ boardNat: "eim", viewerNats: ["eim"] });
    gateway = await lab.startGateway({ args: [...lab.iceArgs(["stun"]), "--device-id", "cam1"] });
  });
  afterAll(async () => {
    await lab.close();
  });

  it("signals through the lab's broker from the board's private LAN", async () => {
    const connected = `signaling: connected to ${lab.broker?.mqttUrl ?? "?"}`;
    expect(await eventually(() => gateway.output().includes(connected))).toBe(true);
  });

  it("names the board's LAN address, the one a phone there would use, in its HTTPS and pairing links", () => {
    // Listening on every interface, the gateway prints the address of one
    // (issue 13: it printed 127.0.0.1 only). The board's host has its LAN
    // address and loopback, nothing else.
    const lan = lab.address("board").replaceAll(".", "\\.");
    expect(lan).not.toBe("");
    expect(gateway.output()).toMatch(
      new RegExp(`^camgw: viewer at https://${lan}:\\d+/ \\(your network`, "m"),
    );
    expect(gateway.output()).toMatch(
      new RegExp(`network, open or scan:\n +https://${lan}:\\d+/#pair=`),
    );
  });

  it("plays through the board's server-reflexive candidate with STUN", async () => {
    const report = await lab.probe("viewer1", { deviceId: "cam1", seconds: 3, ice: ["stun"] });
    expect(report.ended).toBeNull();
    expect(report.video).toBe(true);
    expect(report.frames).toBeGreaterThan(10);
    expect(report.candidatePair?.remote).toMatchObject({
      type: "srflx",
      protocol: "udp",
      address: lab.board.publicAddress,
    });
    // The viewer's own end is its host candidate behind its NAT (the base of its srflx).
    expect(report.candidatePair?.local.address).toBe(lab.address("viewer1"));
  });

  it("finds no path without STUN: private addresses do not cross the internet", async () => {
    // A gateway of its own with no ICE servers: the viewer, which takes the
    // device's servers (docs/signaling.md, "ICE servers"), gets none either.
    const bare = await lab.startGateway({ args: ["--device-id", "cam2"] });
    try {
      const report = await lab.probe("viewer1", { deviceId: "cam2", seconds: 3 });
      expect(report.iceServers).toBe("from-device");
      expect(report.video).toBe(false);
      expect(report.candidatePair).toBeNull();
    } finally {
      await bare.stop();
    }
  });
});
