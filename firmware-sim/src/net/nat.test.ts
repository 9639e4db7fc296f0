/**
 * The NAT boxes behave as named (RFC 4787): one lab with each kind, seen
 * from inside with plain UDP sockets talking to echo sockets on the lab's
 * internet (two ports on one address, and a second address).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabAgent } from "./agent-client.js";
import { startNetLab, type NetLab } from "./net-lab.js";
import { ensureLinkemBuilt, startEcho, type Echo } from "./test-support.js";

describe("the lab's NAT boxes", () => {
  let lab: NetLab;
  let echo: Echo;
  const agents = new Map<string, LabAgent>();

  beforeAll(async () => {
    ensureLinkemBuilt();
    // board: home router; viewer1 symmetric, viewer2 public, viewer3 UDP blocked.
    lab = await startNetLab({
      boardNat: "eim",
      viewerNats: ["symmetric", "none", "udp-blocked"],
      broker: false,
    });
    echo = await startEcho(lab);
    for (const site of ["board", "viewer1", "viewer2", "viewer3"])
      agents.set(site, await lab.agent(site));
  });
  afterAll(async () => {
    await lab.close();
  });

  const agent = (site: string): LabAgent => {
    const a = agents.get(site);
    if (!a) throw new Error(site);
    return a;
  };

  /** A fresh socket's mappings toward the three echo endpoints. */
  async function mappings(
    site: string,
    sock: string,
    timeoutMs = 1000,
  ): Promise<(string | null)[]> {
    const a = agent(site);
    await a.bind(sock);
    return [
      await a.mappedAddress(sock, echo.main, undefined, timeoutMs),
      await a.mappedAddress(sock, echo.otherPort, undefined, timeoutMs),
      await a.mappedAddress(sock, echo.otherAddress, undefined, timeoutMs),
    ];
  }

  /**
   * A fresh socket that has only talked to `main` asks for answers from the
   * other port and the other address (unsolicited for a NAT), then from main.
   */
  async function filtering(site: string, sock: string): Promise<(string | null)[]> {
    const a = agent(site);
    await a.bind(sock);
    return [
      await a.mappedAddress(sock, echo.main, "otherPort", 700),
      await a.mappedAddress(sock, echo.main, "otherAddress", 700),
      await a.mappedAddress(sock, echo.main),
    ];
  }

  it("eim maps one inside socket to one public address and port whatever it talks to", async () => {
    const [m1, m2, m3] = await mappings("board", "map");
    expect(m1).toMatch(new RegExp(`^${lab.board.publicAddress.replace(/\./g, "\\.")}:\\d+$`));
    expect(m2).toBe(m1);
    expect(m3).toBe(m1);
  });

  it("eim lets in only the address and port the inside sent to", async () => {
    const [fromOtherPort, fromOtherAddress, fromMain] = await filtering("board", "filter");
    expect(fromOtherPort).toBeNull();
    expect(fromOtherAddress).toBeNull();
    expect(fromMain).toMatch(/^198\.18\.2\.2:\d+$/);
  });

  it("symmetric gives a new public port for every destination, and filters like eim", async () => {
    const [m1, m2, m3] = await mappings("viewer1", "map");
    const public1 = lab.site("viewer1").publicAddress;
    for (const m of [m1, m2, m3]) expect(m?.startsWith(`${public1}:`)).toBe(true);
    expect(new Set([m1, m2, m3]).size).toBe(3);
    const [fromOtherPort, fromOtherAddress, fromMain] = await filtering("viewer1", "filter");
    expect(fromOtherPort).toBeNull();
    expect(fromOtherAddress).toBeNull();
    expect(fromMain).not.toBeNull();
  });

  it("none leaves the host its own public address, open to anyone", async () => {
    const a = agent("viewer2");
    const local = await a.bind("map");
    const own = `${lab.site("viewer2").publicAddress}:${local.port}`;
    expect(await a.mappedAddress("map", echo.main)).toBe(own);
    expect(await a.mappedAddress("map", echo.otherAddress)).toBe(own);
    const [fromOtherPort, fromOtherAddress] = await filtering("viewer2", "filter");
    expect(fromOtherPort).not.toBeNull();
    expect(fromOtherAddress).not.toBeNull();
  });

  it("udp-blocked lets no UDP out but TCP, to TURN's TCP and TLS ports", async () => {
    expect(await mappings("viewer3", "map", 500)).toEqual([null, null, null]);
    expect(await agent("viewer3").tcpConnect(`${lab.turn?.address ?? ""}:3478`)).toEqual({
      ok: true,
    });
    expect(await agent("viewer3").tcpConnect(`${lab.turn?.address ?? ""}:5349`)).toEqual({
      ok: true,
    });
  });

  it("agrees with coturn's own RFC 5780 discovery (turnutils_natdiscovery)", async () => {
    const expected = {
      board: ["Endpoint Independent Mapping", "Address and Port Dependent Filtering"],
      viewer1: ["Address and Port Dependent Mapping", "Address and Port Dependent Filtering"],
      viewer2: ["Endpoint Independent Mapping", "Endpoint Independent Filtering"],
    };
    // In parallel: each waits out its own timeouts on the filtering tests.
    const found = await Promise.all(
      Object.keys(expected).map((site) =>
        lab.exec(site, "turnutils_natdiscovery", ["-m", "-f", lab.turn?.address ?? ""]),
      ),
    );
    Object.values(expected).forEach(([mapping, filtering], i) => {
      expect(found[i]?.stdout).toContain(`NAT with ${mapping ?? ""}!`);
      expect(found[i]?.stdout).toContain(`NAT with ${filtering ?? ""}!`);
    });
  });

  it("keeps a LAN's private addresses off the internet", async () => {
    const route = await lab.exec("core", "ip", ["route", "get", lab.board.hostAddress]);
    expect(route.code).not.toBe(0);
    expect(route.stderr).toMatch(/unreachable/i);
    const board = agent("board");
    await board.bind("lan-listener", { port: 9 });
    await agent("viewer2").bind("probe-lan");
    await agent("viewer2").send("probe-lan", `${lab.board.hostAddress}:9`, "hello");
    expect(await board.receive("lan-listener", 500)).toBeNull();
  });
});
