/**
 * This machine's addresses on its networks, the one a phone on the same
 * Wi-Fi most likely reaches first. The pairing link and the start-up line
 * name the first; the start-up line lists the others after it.
 *
 * The kernel lists interfaces by index, and a board with Docker, a VPN or
 * a container bridge has addresses no phone can reach (docker0's
 * 172.17.0.1, a WireGuard or tun address): those come after the private
 * (RFC 1918) addresses of the other interfaces, then the other IPv4 ones,
 * then IPv6 (link-local left out: it needs a zone a URL cannot carry).
 */
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";

/**
 * Interfaces a host makes for containers, VMs and VPNs rather than for its
 * LAN: docker/podman/libvirt/LXC bridges and their veths, CNI and flannel,
 * WireGuard, OpenVPN/tun/tap, Tailscale, ZeroTier.
 */
const VIRTUAL_INTERFACE =
  /^(docker|br-|veth|virbr|lxc|lxd|cni|flannel|podman|vmnet|wg|tun|tap|tailscale|zt)/;

/** RFC 1918's private IPv4 ranges: what a home or office LAN hands out. */
function isPrivateIpv4(address: string): boolean {
  const [a, b] = address.split(".").map(Number);
  if (a === undefined || b === undefined) return false;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** Non-internal addresses, the likeliest for a LAN phone first (see above). */
export function lanAddresses(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const ranked: { address: string; rank: number; order: number }[] = [];
  for (const [name, list] of Object.entries(interfaces)) {
    const virtual = VIRTUAL_INTERFACE.test(name);
    for (const a of list ?? []) {
      if (a.internal) continue;
      let rank: number;
      if (a.family === "IPv4") {
        rank = isPrivateIpv4(a.address) ? (virtual ? 2 : 0) : virtual ? 3 : 1;
      } else {
        if (a.address.toLowerCase().startsWith("fe80:")) continue;
        rank = virtual ? 5 : 4;
      }
      ranked.push({ address: a.address, rank, order: ranked.length });
    }
  }
  ranked.sort((x, y) => x.rank - y.rank || x.order - y.order);
  return [...new Set(ranked.map((r) => r.address))];
}
