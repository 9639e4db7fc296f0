import type { NetworkInterfaceInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { lanAddresses } from "./lan-addresses.js";

function v4(address: string, internal = false): NetworkInterfaceInfo {
  return {
    address,
    netmask: "255.255.255.0",
    family: "IPv4",
    mac: "02:00:00:00:00:01",
    internal,
    cidr: `${address}/24`,
  };
}

function v6(address: string): NetworkInterfaceInfo {
  return {
    address,
    netmask: "ffff:ffff:ffff:ffff::",
    family: "IPv6",
    mac: "02:00:00:00:00:01",
    internal: false,
    cidr: `${address}/64`,
    scopeid: 0,
  };
}

describe("the addresses a phone on the LAN is given", () => {
  it("puts a Wi-Fi address first on a board whose Docker bridge and VPN come earlier in the kernel's list", () => {
    // the order `os.networkInterfaces()` gave on a Pi with Docker and
    // WireGuard set up before its Wi-Fi came up (lower interface indexes)
    const found = lanAddresses({
      lo: [v4("127.0.0.1", true)],
      docker0: [v4("172.17.0.1")],
      wg0: [v4("10.8.0.2")],
      wlan0: [v4("192.168.1.20"), v6("fe80::1"), v6("fd00::20")],
    });
    expect(found).toEqual(["192.168.1.20", "172.17.0.1", "10.8.0.2", "fd00::20"]);
  });

  it("keeps the kernel's order among LAN interfaces and puts a public IPv4 address after the private ones", () => {
    const found = lanAddresses({
      eth0: [v4("203.0.113.7")],
      eth1: [v4("10.0.0.5")],
      wlan0: [v4("192.168.1.20")],
    });
    expect(found).toEqual(["10.0.0.5", "192.168.1.20", "203.0.113.7"]);
  });

  it("names nothing on a machine with only loopback and link-local addresses", () => {
    expect(lanAddresses({ lo: [v4("127.0.0.1", true)], eth0: [v6("fe80::2")] })).toEqual([]);
  });
});
