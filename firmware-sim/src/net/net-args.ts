/**
 * The network lab's command-line flags, shared by `firmware-sim net up` and
 * `firmware-sim up`: NAT types per side, the shorthand impairment of the
 * board's link, full control-language entries, and the TURN server.
 */
import { ConfigError } from "../../../gateway/src/errors.js";
import type { NetLabOptions } from "./net-lab.js";
import { isNatType, MAX_VIEWERS, NAT_TYPES, type NatType } from "./plan.js";

export const NET_FLAGS = {
  "board-nat": { type: "string" },
  "viewer-nat": { type: "string" },
  loss: { type: "string" },
  burst: { type: "string" },
  delay: { type: "string" },
  jitter: { type: "string" },
  rate: { type: "string" },
  queue: { type: "string" },
  reorder: { type: "string" },
  impair: { type: "string", multiple: true },
  "turn-lifetime": { type: "string" },
  "no-turn": { type: "boolean" },
} as const;

export const NET_USAGE = `Network lab (root; docs/firmware-sim.md, "Network lab"):
  --board-nat T      the board's NAT: none | eim | symmetric | udp-blocked (default eim)
  --viewer-nat T,..  the viewers' NATs, one per viewer (the last repeats; default eim)
                     none: public address; eim: home router (endpoint-independent
                     mapping, address-and-port-dependent filtering); symmetric:
                     a new port per destination; udp-blocked: only TCP gets out
  --loss P --burst N --delay T --jitter T --rate R --queue Q --reorder P
                     the board's link, both directions: loss 2% (mean burst N
                     packets), delay 40ms, jitter 5ms, rate 1mbit (queue 400ms
                     or 64kb), reorder 1%
  --impair SPEC      any link, any direction, e.g. "viewer1/down:rate=600kbit" or
                     "broker:delay=75ms" (repeatable; the control language)
  --turn-lifetime S  coturn's max-allocate-lifetime, seconds (default 3600)
  --no-turn          no TURN server
`;

export interface NetFlagValues {
  "board-nat"?: string | undefined;
  "viewer-nat"?: string | undefined;
  loss?: string | undefined;
  burst?: string | undefined;
  delay?: string | undefined;
  jitter?: string | undefined;
  rate?: string | undefined;
  queue?: string | undefined;
  reorder?: string | undefined;
  impair?: string[] | undefined;
  "turn-lifetime"?: string | undefined;
  "no-turn"?: boolean | undefined;
}

/** True when any lab flag was given (then `firmware-sim up` runs in a lab). */
export function wantsLab(values: NetFlagValues): boolean {
  return Object.keys(NET_FLAGS).some((k) => values[k as keyof NetFlagValues] !== undefined);
}

function nat(flag: string, v: string): NatType {
  if (!isNatType(v)) {
    throw new ConfigError(`${flag}: unknown NAT type "${v}" (${NAT_TYPES.join(", ")})`);
  }
  return v;
}

/** The lab options the flags say, for `viewers` viewer sites (0: as many as --viewer-nat names). */
export function netOptionsFrom(values: NetFlagValues, viewers = 0): NetLabOptions {
  const named = (values["viewer-nat"] ?? "eim")
    .split(",")
    .map((v) => nat("--viewer-nat", v.trim()));
  const count = viewers > 0 ? viewers : named.length;
  if (count > MAX_VIEWERS) throw new ConfigError(`the lab has at most ${MAX_VIEWERS} viewers`);
  const viewerNats = Array.from(
    { length: count },
    (_, i) => named[Math.min(i, named.length - 1)] ?? "eim",
  );
  const shorthand = (["loss", "burst", "delay", "jitter", "rate", "queue", "reorder"] as const)
    .filter((k) => values[k] !== undefined)
    .map((k) => `${k}=${values[k] ?? ""}`);
  const conditions = [
    ...(shorthand.length ? [`board:${shorthand.join(":")}`] : []),
    ...(values.impair ?? []),
  ].join("\n");
  const lifetime = values["turn-lifetime"];
  if (lifetime !== undefined && (!/^\d+$/.test(lifetime) || Number(lifetime) < 1)) {
    throw new ConfigError(`--turn-lifetime takes whole seconds, got "${lifetime}"`);
  }
  return {
    boardNat: nat("--board-nat", values["board-nat"] ?? "eim"),
    viewerNats,
    conditions,
    turn: values["no-turn"]
      ? false
      : lifetime === undefined
        ? {}
        : { maxAllocateLifetimeS: Number(lifetime) },
  };
}
