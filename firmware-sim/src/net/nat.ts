/**
 * The NAT boxes, as nftables rulesets for a router namespace with its LAN
 * on lan0 and the internet on wan0. Behaviour in RFC 4787 terms:
 *
 * - eim: `masquerade` keeps the inside port when it can (nf_nat's
 *   nf_nat_l4proto_unique_tuple tries the original port first), so one
 *   inside socket gets one outside port whatever it talks to: endpoint-
 *   independent mapping, as long as one host uses the port (one host per
 *   LAN here). Inbound packets only pass when conntrack knows the flow,
 *   i.e. from the exact address and port the inside sent to:
 *   address-and-port-dependent filtering. A typical home router.
 * - symmetric: `masquerade fully-random` picks a random port for every new
 *   flow: address-and-port-dependent mapping (and filtering).
 * - udp-blocked: eim, plus a firewall that drops all UDP both ways (only
 *   TCP, e.g. TURN over TCP or TLS, gets out).
 */
import type { NatType } from "./plan.js";
import { LAN_IF, WAN_IF } from "./plan.js";

export function natRuleset(nat: Exclude<NatType, "none">): string {
  const masquerade = nat === "symmetric" ? "masquerade fully-random" : "masquerade";
  const blockUdp = nat === "udp-blocked" ? ["    meta l4proto udp counter drop"] : [];
  return [
    "table ip camgw_nat {",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    oifname "${WAN_IF}" ${masquerade}`,
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy drop;",
    ...blockUdp,
    "    ct state established,related accept",
    `    iifname "${LAN_IF}" oifname "${WAN_IF}" accept`,
    '    counter comment "unsolicited inbound"',
    "  }",
    "  chain input {",
    // Nothing on the internet may reach the router itself, only replies.
    "    type filter hook input priority filter; policy accept;",
    `    iifname "${WAN_IF}" ct state established,related accept`,
    `    iifname "${WAN_IF}" drop`,
    "  }",
    "}",
    "",
  ].join("\n");
}
