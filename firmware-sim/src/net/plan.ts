/**
 * The lab's shape: which namespaces exist, how they are joined and which
 * addresses they use. Pure data, decided before anything is created, so
 * the reaper knows every namespace even if start-up fails half-way.
 *
 *   board ──veth── board-nat ──linkem── core ──linkem── viewerN-nat ──veth── viewerN
 *   (192.168.1.10)  (198.18.2.2)          │             (198.18.1N.2)        (10.0.N.10)
 *                                 linkem ─┴─ linkem
 *                                  turn      broker
 *                               198.18.0.2  198.18.1.2
 *
 * "Internet" addresses come from 198.18.0.0/15, which RFC 2544 reserves for
 * network test labs: they look public to ICE, and exist only inside the
 * lab's namespaces. Link k is 198.18.k.0/24: the core is .1, the far end .2.
 * LANs behind NATs use private ranges (RFC 1918). A site without NAT has no
 * router: its host sits on its link with the public address.
 */
import { ConfigError } from "../../../gateway/src/errors.js";

export type NatType = "none" | "eim" | "symmetric" | "udp-blocked";
export const NAT_TYPES: readonly NatType[] = ["none", "eim", "symmetric", "udp-blocked"];

/** What each NAT type stands for (RFC 4787 terms), for usage texts and docs. */
export const NAT_DESCRIPTIONS: Readonly<Record<NatType, string>> = {
  none: "public address, no NAT, no firewall",
  eim: "home router: endpoint-independent mapping, address-and-port-dependent filtering",
  symmetric: "address-and-port-dependent mapping and filtering: a new port per destination",
  "udp-blocked": "home router whose firewall drops all UDP (only TCP/TLS out)",
};

export function isNatType(s: string): s is NatType {
  return (NAT_TYPES as readonly string[]).includes(s);
}

export const MAX_VIEWERS = 16;

/** The interface names inside the namespaces (names are per namespace). */
export const WAN_IF = "wan0";
export const LAN_IF = "lan0";

export interface SitePlan {
  /** "board", "viewer1", "viewer2", ... (also the link's name) */
  name: string;
  kind: "board" | "viewer";
  nat: NatType;
  /** The host's namespace (the gateway, a probe, Chromium run here). */
  hostNs: string;
  /** The NAT router's namespace; null without NAT. */
  natNs: string | null;
  /** The namespace at the site's end of its internet link. */
  linkNs: string;
  linkIndex: number;
  /** The address the internet sees: the NAT's WAN address or the host's own. */
  publicAddress: string;
  /** The host's interface, its first address and its subnet (a.b.c.0/24). */
  hostIf: string;
  hostAddress: string;
  hostSubnet: string;
  /** The host's default gateway. */
  gateway: string;
}

export interface ServicePlan {
  name: "turn" | "broker";
  ns: string;
  linkIndex: number;
  /** The first is the service's address; turn has a second (the echo's alternate). */
  addresses: string[];
}

export interface LabPlan {
  id: string;
  coreNs: string;
  sites: SitePlan[];
  services: ServicePlan[];
}

export interface PlanOptions {
  boardNat: NatType;
  viewerNats: readonly NatType[];
}

/** The address of link k's end: 198.18.k.1 (core) or 198.18.k.N. */
export function linkAddress(index: number, host: number): string {
  return `198.18.${index}.${host}`;
}

export const TURN_LINK = 0;
export const BROKER_LINK = 1;
export const BOARD_LINK = 2;
export const viewerLink = (n: number): number => 10 + n;

function site(
  id: string,
  name: string,
  kind: SitePlan["kind"],
  nat: NatType,
  index: number,
): SitePlan {
  const hostNs = `${id}-${name}`;
  const natNs = nat === "none" ? null : `${id}-${name}-nat`;
  const lan = kind === "board" ? "192.168.1" : `10.0.${index - viewerLink(0)}`;
  return {
    name,
    kind,
    nat,
    hostNs,
    natNs,
    linkNs: natNs ?? hostNs,
    linkIndex: index,
    publicAddress: linkAddress(index, 2),
    hostIf: natNs ? LAN_IF : WAN_IF,
    hostAddress: natNs ? `${lan}.10` : linkAddress(index, 2),
    hostSubnet: natNs ? `${lan}.0/24` : `${linkAddress(index, 0)}/24`,
    gateway: natNs ? `${lan}.1` : linkAddress(index, 1),
  };
}

export function planLab(id: string, options: PlanOptions): LabPlan {
  if (options.viewerNats.length < 1 || options.viewerNats.length > MAX_VIEWERS) {
    throw new ConfigError(
      `the lab has 1 to ${MAX_VIEWERS} viewers, not ${options.viewerNats.length}`,
    );
  }
  return {
    id,
    coreNs: `${id}-core`,
    sites: [
      site(id, "board", "board", options.boardNat, BOARD_LINK),
      ...options.viewerNats.map((nat, i) =>
        site(id, `viewer${i + 1}`, "viewer", nat, viewerLink(i + 1)),
      ),
    ],
    services: [
      {
        name: "turn",
        ns: `${id}-turn`,
        linkIndex: TURN_LINK,
        addresses: [linkAddress(TURN_LINK, 2), linkAddress(TURN_LINK, 3)],
      },
      {
        name: "broker",
        ns: `${id}-broker`,
        linkIndex: BROKER_LINK,
        addresses: [linkAddress(BROKER_LINK, 2)],
      },
    ],
  };
}

/** Every namespace of the plan, core first. */
export function planNamespaces(plan: LabPlan): string[] {
  return [
    plan.coreNs,
    ...plan.services.map((s) => s.ns),
    ...plan.sites.flatMap((s) => (s.natNs ? [s.natNs, s.hostNs] : [s.hostNs])),
  ];
}

/** Link names (the control language's targets): sites and services. */
export function planLinks(plan: LabPlan): string[] {
  return [...plan.sites.map((s) => s.name), ...plan.services.map((s) => s.name)];
}

/**
 * Checks an address a host may move to: inside its subnet, not the
 * network, broadcast or gateway address. Returns it, or throws ConfigError.
 */
export function checkHostAddress(s: SitePlan, address: string): string {
  if (address === s.gateway) {
    throw new ConfigError(`${address} is ${s.name}'s gateway`);
  }
  const prefix = s.hostSubnet.replace(/\.0\/24$/, ".");
  const rest = address.slice(prefix.length);
  if (
    !address.startsWith(prefix) ||
    !/^\d+$/.test(rest) ||
    Number(rest) < 2 ||
    Number(rest) > 254
  ) {
    throw new ConfigError(
      `${s.name}'s address must be in ${s.hostSubnet} (.2 to .254), got ${address}`,
    );
  }
  return address;
}

/** The next address after `current` in the host's subnet (a DHCP server handing out another). */
export function nextHostAddress(s: SitePlan, current: string): string {
  const prefix = s.hostSubnet.replace(/\.0\/24$/, ".");
  let last = Number(current.slice(prefix.length));
  do {
    last = last >= 254 ? 2 : last + 1;
  } while (`${prefix}${last}` === s.gateway);
  return `${prefix}${last}`;
}
