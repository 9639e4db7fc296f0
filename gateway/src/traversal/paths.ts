/**
 * Which ICE paths exist between the board and a viewer on the network
 * lab's networks (docs/firmware-sim.md, "NAT boxes"), from first
 * principles, for the connectivity matrix to check what ICE found against.
 * A path is named from the viewer's side, as its nominated candidate pair:
 * "<local type>-<remote type>", a local relay with its client leg
 * ("relay(tcp)-host"). The rules, per RFC 4787 behaviour of the lab's boxes:
 *
 * - A private (NATed) host address is unreachable from the internet (no
 *   hairpinning, private ranges not routed).
 * - `none`: the host's address is public and nothing is filtered.
 * - `eim`: one mapping per inside socket, inbound only from an address and
 *   port the inside has sent to (APDF): two `eim` sites meet at their
 *   server-reflexive candidates once both have sent (hole punching).
 * - `symmetric`: a new mapping per destination, so its srflx candidate (the
 *   mapping toward the STUN server) takes nothing from anyone else; it
 *   reaches public hosts and relays, and shows up there as peer-reflexive.
 * - `udp-blocked`: no UDP at all; only TURN over TCP or TLS gets out.
 * - A TURN relay takes packets only from IPs its client created permissions
 *   for, i.e. the IPs of the peer's candidates (RFC 8656 section 9): a
 *   NATed peer without a srflx candidate (no STUN) cannot reach it from its
 *   host.
 *
 * werift (both the gateway and `camgw probe`) nominates the first pair
 * whose check succeeds (packages/ice/src/ice.ts, checkStart: the controlling
 * side nominates at once), so where several paths work, any of them may be
 * the one; `best` is the one a full ICE agent with regular nomination would
 * settle on.
 */
import type { NatType } from "../../../firmware-sim/src/net/plan.js";

/** The ICE servers both ends get (the gateway's config; viewers get theirs from it). */
export type IceColumn = "none" | "stun" | "turn" | "turns";

export interface ExpectedPaths {
  /** Every path ICE can find; empty when the pair cannot connect. */
  paths: string[];
  /** Paths without a relay at either end. */
  direct: string[];
  /** The path of highest priority (host > srflx/prflx > relay), or null. */
  best: string | null;
}

/** The servers of a column (the lab's IceChoice names). */
export const COLUMN_SERVERS: Readonly<Record<IceColumn, readonly ("stun" | "turn" | "turns")[]>> = {
  none: [],
  stun: ["stun"],
  // A plain turn: URL: the client races UDP and TCP (werift patch 5).
  turn: ["stun", "turn"],
  turns: ["turns"],
};

const natted = (nat: NatType): boolean => nat !== "none";
const hasUdp = (nat: NatType): boolean => nat !== "udp-blocked";

export function expectedPaths(board: NatType, viewer: NatType, column: IceColumn): ExpectedPaths {
  const servers = COLUMN_SERVERS[column];
  const stun = servers.includes("stun");
  const turn = servers.includes("turn") || servers.includes("turns");
  const relayLeg = (nat: NatType): string =>
    servers.includes("turns") ? "tls" : hasUdp(nat) ? "udp" : "tcp";
  /** Whether a site has a srflx candidate whose address others can send to. */
  const srflx = (nat: NatType): boolean => stun && hasUdp(nat) && natted(nat);

  const direct = new Set<string>();
  if (hasUdp(board) && hasUdp(viewer)) {
    // The viewer checks the board's public host address.
    if (!natted(board)) direct.add("host-host");
    // The board's checks reach the viewer's public host: the board shows up
    // from its NAT's mapping, which is its srflx when that box is eim.
    if (!natted(viewer) && natted(board)) {
      direct.add("host-prflx");
      if (board === "eim" && srflx(board)) direct.add("host-srflx");
    }
    // Hole punching between two eim boxes through their srflx candidates.
    if (board === "eim" && viewer === "eim" && stun) {
      direct.add("host-srflx");
      direct.add("host-prflx");
    }
  }

  const paths = new Set(direct);
  if (turn) {
    const v = `relay(${relayLeg(viewer)})`;
    // The viewer's relay to the board's relay: permissions for the TURN
    // server's own address, always there.
    paths.add(`${v}-relay`);
    if (hasUdp(board)) {
      // The board sends from its host (through its NAT) to the viewer's
      // relay; the viewer's TURN server lets it in when the viewer knows
      // the board's public IP (its host, or its srflx).
      if (!natted(board)) paths.add(`${v}-host`);
      if (srflx(board)) {
        paths.add(`${v}-prflx`);
        if (board === "eim") paths.add(`${v}-srflx`);
      }
    }
    if (hasUdp(viewer) && (!natted(viewer) || srflx(viewer))) {
      // The viewer's host to the board's relay, let in by the board's
      // permission for the viewer's public IP.
      paths.add("host-relay");
    }
  }
  const all = [...paths];
  return {
    paths: all,
    direct: [...direct],
    best: all.sort((a, b) => rank(a) - rank(b))[0] ?? null,
  };
}

/** Lower is better: RFC 8445 type preferences, host > prflx > srflx > relay, either end. */
function rank(path: string): number {
  const pref = (type: string): number =>
    type.startsWith("relay") ? 3 : type === "srflx" ? 2 : type === "prflx" ? 1 : 0;
  const [local = "", remote = ""] = path.split("-");
  return pref(local) * 4 + pref(remote);
}

/** The path of a nominated pair as expectedPaths names it. */
export function pathOf(pair: {
  local: { type: string; relayProtocol?: string };
  remote: { type: string };
}): string {
  const local =
    pair.local.type === "relay" ? `relay(${pair.local.relayProtocol ?? "?"})` : pair.local.type;
  return `${local}-${pair.remote.type}`;
}
