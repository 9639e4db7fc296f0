import { describe, expect, it } from "vitest";
import { netOptionsFrom } from "./net-args.js";
import { checkHostAddress, nextHostAddress, planLab, planNamespaces } from "./plan.js";

describe("the lab's plan", () => {
  const plan = planLab("cgl-1-abc", { boardNat: "eim", viewerNats: ["none", "symmetric"] });

  it("names every namespace after the lab, and gives sites without NAT no router", () => {
    expect(planNamespaces(plan)).toEqual([
      "cgl-1-abc-core",
      "cgl-1-abc-turn",
      "cgl-1-abc-broker",
      "cgl-1-abc-board-nat",
      "cgl-1-abc-board",
      "cgl-1-abc-viewer1",
      "cgl-1-abc-viewer2-nat",
      "cgl-1-abc-viewer2",
    ]);
  });

  it("puts NATed hosts on private LANs and the others on their public link", () => {
    const [board, viewer1, viewer2] = plan.sites;
    expect(board).toMatchObject({
      hostAddress: "192.168.1.10",
      gateway: "192.168.1.1",
      publicAddress: "198.18.2.2",
      hostIf: "lan0",
    });
    expect(viewer1).toMatchObject({
      hostAddress: "198.18.11.2",
      gateway: "198.18.11.1",
      publicAddress: "198.18.11.2",
      natNs: null,
      hostIf: "wan0",
    });
    expect(viewer2).toMatchObject({ hostAddress: "10.0.2.10", publicAddress: "198.18.12.2" });
  });

  it("hands out the next address of a subnet, skipping the gateway and wrapping", () => {
    const [board, viewer1] = plan.sites;
    if (!board || !viewer1) throw new Error("plan");
    expect(nextHostAddress(board, "192.168.1.10")).toBe("192.168.1.11");
    expect(nextHostAddress(board, "192.168.1.254")).toBe("192.168.1.2");
    expect(nextHostAddress(viewer1, "198.18.11.254")).toBe("198.18.11.2");
    expect(checkHostAddress(board, "192.168.1.200")).toBe("192.168.1.200");
    expect(() => checkHostAddress(board, "192.168.1.255")).toThrow(/\.2 to \.254/);
    expect(() => checkHostAddress(viewer1, "198.18.11.1")).toThrow(/is viewer1's gateway/);
  });

  it("refuses a lab without viewers or with too many", () => {
    expect(() => planLab("x", { boardNat: "eim", viewerNats: [] })).toThrow(/1 to 16 viewers/);
  });
});

describe("the lab's flags", () => {
  it("repeats the last viewer NAT for the remaining viewers and writes the shorthand as board entries", () => {
    expect(
      netOptionsFrom(
        {
          "viewer-nat": "symmetric,none",
          loss: "2%",
          burst: "3",
          rate: "1mbit",
          impair: ["broker:delay=75ms"],
        },
        3,
      ),
    ).toEqual({
      boardNat: "eim",
      viewerNats: ["symmetric", "none", "none"],
      conditions: "board:loss=2%:burst=3:rate=1mbit\nbroker:delay=75ms",
      turn: {},
    });
    expect(netOptionsFrom({ "no-turn": true, "turn-lifetime": "60" }).turn).toBe(false);
    expect(netOptionsFrom({ "turn-lifetime": "60" }).turn).toEqual({ maxAllocateLifetimeS: 60 });
    expect(() => netOptionsFrom({ "viewer-nat": "eim,full-cone" })).toThrow(
      /--viewer-nat: unknown NAT type "full-cone" \(none, eim, symmetric, udp-blocked\)/,
    );
  });
});
