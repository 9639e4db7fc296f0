/**
 * Builds a planned lab: namespaces, the links between them (veth pairs on
 * LANs, link emulators toward the internet), addresses, routes and NAT
 * rules. Every command names its namespace: nothing is created in the
 * namespace the lab runs from, so the host's own interfaces, addresses and
 * firewall are never touched.
 */
import { LinkEmulator } from "./link-emulator.js";
import { natRuleset } from "./nat.js";
import {
  LAN_IF,
  WAN_IF,
  linkAddress,
  planNamespaces,
  type LabPlan,
  type SitePlan,
} from "./plan.js";
import { ipBatch, nft, sysctl } from "./shell.js";

/** Routers forward; IPv6 is off everywhere so ICE sees exactly the lab's IPv4 addresses. */
async function configureNamespaces(plan: LabPlan): Promise<void> {
  const routers = new Set([plan.coreNs, ...plan.sites.flatMap((s) => (s.natNs ? [s.natNs] : []))]);
  await Promise.all(
    planNamespaces(plan).map((ns) =>
      sysctl(ns, {
        "net.ipv6.conf.all.disable_ipv6": 1,
        "net.ipv6.conf.default.disable_ipv6": 1,
        "net.ipv4.ip_forward": routers.has(ns) ? 1 : 0,
      }),
    ),
  );
}

function hostLines(s: SitePlan, address: string): string[] {
  return [
    "link set lo up",
    `addr add ${address}/24 dev ${s.hostIf}`,
    `link set ${s.hostIf} up`,
    `route add default via ${s.gateway} dev ${s.hostIf}`,
  ];
}

/** The site's end of its internet link: the NAT router, or the host itself without NAT. */
function natLines(s: SitePlan): string[] {
  return [
    "link set lo up",
    `addr add ${s.publicAddress}/24 dev ${WAN_IF}`,
    `link set ${WAN_IF} up`,
    `route add default via ${linkAddress(s.linkIndex, 1)} dev ${WAN_IF}`,
    `addr add ${s.gateway}/24 dev ${LAN_IF}`,
    `link set ${LAN_IF} up`,
  ];
}

export async function buildTopology(
  plan: LabPlan,
  seed: number,
): Promise<Map<string, LinkEmulator>> {
  await ipBatch(
    "namespaces",
    null,
    planNamespaces(plan).map((ns) => `netns add ${ns}`),
  );
  await configureNamespaces(plan);
  // LAN cables: created directly in their namespaces (never in ours).
  await ipBatch(
    "LAN links",
    null,
    plan.sites.flatMap((s) =>
      s.natNs
        ? [`link add ${LAN_IF} netns ${s.hostNs} type veth peer name ${LAN_IF} netns ${s.natNs}`]
        : [],
    ),
  );
  const ends = [
    ...plan.services.map((s) => ({ name: s.name, ns: s.ns, index: s.linkIndex })),
    ...plan.sites.map((s) => ({ name: s.name, ns: s.linkNs, index: s.linkIndex })),
  ];
  const links = new Map<string, LinkEmulator>();
  try {
    await Promise.all(
      ends.map(async (end) => {
        const link = await LinkEmulator.start({
          name: end.name,
          nsA: end.ns,
          devA: WAN_IF,
          nsB: plan.coreNs,
          devB: end.name,
          seed: seed * 64 + end.index,
        });
        links.set(end.name, link);
      }),
    );
    await ipBatch("the internet's router", plan.coreNs, [
      "link set lo up",
      ...ends.flatMap((e) => [
        `addr add ${linkAddress(e.index, 1)}/24 dev ${e.name}`,
        `link set ${e.name} up`,
      ]),
    ]);
    await Promise.all([
      ...plan.services.map((svc) =>
        ipBatch(svc.name, svc.ns, [
          "link set lo up",
          ...svc.addresses.map((a) => `addr add ${a}/24 dev ${WAN_IF}`),
          `link set ${WAN_IF} up`,
          `route add default via ${linkAddress(svc.linkIndex, 1)} dev ${WAN_IF}`,
        ]),
      ),
      ...plan.sites.map(async (s) => {
        if (s.natNs && s.nat !== "none") {
          await ipBatch(`${s.name}'s NAT`, s.natNs, natLines(s));
          await nft(s.natNs, natRuleset(s.nat));
        }
        await ipBatch(s.name, s.hostNs, hostLines(s, s.hostAddress));
      }),
    ]);
  } catch (err) {
    await Promise.all([...links.values()].map((l) => l.close()));
    throw err;
  }
  return links;
}

/** Moves a site's host to another address: the old one goes, as after a DHCP renew to a new lease. */
export async function moveHost(
  s: SitePlan,
  from: string,
  to: string,
  ifdown: boolean,
): Promise<void> {
  await ipBatch(`${s.name}'s address`, s.hostNs, [
    `addr del ${from}/24 dev ${s.hostIf}`,
    `addr add ${to}/24 dev ${s.hostIf}`,
    // The default route went with the old address's subnet route.
    ...(ifdown ? [] : [`route replace default via ${s.gateway} dev ${s.hostIf}`]),
  ]);
}

/** Takes a site host's interface down (routes go with it) or up again (routes come back). */
export async function setHostInterface(s: SitePlan, up: boolean): Promise<void> {
  await ipBatch(
    `${s.name}'s interface`,
    s.hostNs,
    up
      ? [`link set ${s.hostIf} up`, `route replace default via ${s.gateway} dev ${s.hostIf}`]
      : [`link set ${s.hostIf} down`],
  );
}
