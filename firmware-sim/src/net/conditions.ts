/**
 * The network lab's control language: what each link does to packets and
 * the state of each site's host, as text a person can write on a command
 * line or into the lab's control file (docs/firmware-sim.md, "Network lab").
 *
 *   board:loss=2%:delay=40ms           both directions of the board's link
 *   board/up:rate=1mbit:queue=400ms    board -> internet only
 *   viewer1/down:loss=5%:burst=4       bursty loss toward viewer 1
 *   viewers:delay=20ms                 every viewer's link
 *   broker:delay=75ms                  the broker's link
 *   board:down                         the board's link is cut (packets dropped)
 *   board:address=192.168.1.23         the board's host moves to a new address
 *   board:ifdown                       the board's interface is down (no carrier)
 *
 * Entries are separated by `,` `;` or newlines (`#` starts a comment line),
 * like the board's faults; a later entry overrides the keys an earlier one
 * set for the same link and direction.
 */
import { isIPv4 } from "node:net";
import { ConfigError } from "../../../gateway/src/errors.js";
import { parseDurationMs } from "../faults.js";

export type Direction = "up" | "down";
export const DIRECTIONS: readonly Direction[] = ["up", "down"];

/** What one direction of a link does; absent keys leave packets alone. */
export interface LinkParams {
  /** Fraction of packets lost, 0..1. */
  loss?: number;
  /** Mean length of a loss burst in packets (>= 1): loss follows a Gilbert-Elliott chain. */
  burst?: number;
  delayMs?: number;
  jitterMs?: number;
  /** Bandwidth cap, bit/s. */
  rateBps?: number;
  /** The cap's queue: as time at the rate, or as bytes. */
  queue?: { ms: number } | { bytes: number };
  /** Fraction of packets delivered after the packet sent after them. */
  reorder?: number;
  /** The link is cut: every packet is dropped. */
  down?: boolean;
}

/** A site's host, beyond its link. */
export interface HostParams {
  /** The host's address (within its LAN, or its public subnet without NAT). */
  address?: string;
  /** Its interface is down: no carrier, no routes. */
  ifdown?: boolean;
}

export interface LinkState {
  up: LinkParams;
  down: LinkParams;
}

/** Everything the control language can say, resolved per link and host. */
export interface LabConditions {
  links: Map<string, LinkState>;
  hosts: Map<string, HostParams>;
}

/** Names the language may use: links, hosts (sites with a host), and groups. */
export interface ConditionTargets {
  links: readonly string[];
  hosts: readonly string[];
  groups: Readonly<Record<string, readonly string[]>>;
}

/** The queue a rate cap gets when none is given (a tbf "latency" of 400 ms). */
export const DEFAULT_QUEUE_MS = 400;

const LINK_KEYS = ["loss", "burst", "delay", "jitter", "rate", "queue", "reorder", "down"];
const HOST_KEYS = ["address", "ifdown"];

function fraction(entry: string, key: string, v: string): number {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  const n = pct?.[1] ? Number(pct[1]) / 100 : /^\d+(?:\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new ConfigError(`"${entry}": ${key} is a percentage like 2% or a fraction like 0.02`, {
      entry,
      key,
    });
  }
  return n;
}

function duration(entry: string, key: string, v: string): number {
  const ms = parseDurationMs(v);
  if (ms === undefined) {
    throw new ConfigError(`"${entry}": ${key} is a duration like 40ms or 1.5s`, { entry, key });
  }
  return ms;
}

const RATE_UNITS: Readonly<Record<string, number>> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };

/** A rate as tc writes it: `1mbit`, `400kbit`, `2.5mbit`, or bit/s. */
export function parseRate(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)?$/i.exec(v);
  if (!m?.[1]) return undefined;
  const bps = Number(m[1]) * (RATE_UNITS[(m[2] ?? "bit").toLowerCase()] ?? 1);
  return bps >= 1 ? Math.round(bps) : undefined;
}

function rate(entry: string, v: string): number {
  const bps = parseRate(v);
  if (bps === undefined) {
    throw new ConfigError(
      `"${entry}": rate is bits per second like 1mbit, 400kbit or 64000 (tc's units; kbps would be kilobytes)`,
      { entry, key: "rate" },
    );
  }
  return bps;
}

function queue(entry: string, v: string): { ms: number } | { bytes: number } {
  const bytes = /^(\d+)(b|kb|mb)$/i.exec(v);
  if (bytes?.[1] && bytes[2]) {
    const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[bytes[2].toLowerCase() as "b" | "kb" | "mb"];
    return { bytes: Number(bytes[1]) * unit };
  }
  const ms = parseDurationMs(v);
  if (ms === undefined) {
    throw new ConfigError(`"${entry}": queue is a time like 400ms or a size like 64kb`, {
      entry,
      key: "queue",
    });
  }
  return { ms };
}

function flag(entry: string, key: string, v: string | undefined): boolean {
  if (v === undefined || ["1", "on", "yes", "true"].includes(v)) return true;
  if (["0", "off", "no", "false"].includes(v)) return false;
  throw new ConfigError(`"${entry}": ${key} takes no value, or on/off`, { entry, key });
}

function setLinkKey(p: LinkParams, entry: string, key: string, v: string | undefined): void {
  if (key === "down") {
    p.down = flag(entry, key, v);
    return;
  }
  if (v === undefined) {
    throw new ConfigError(`"${entry}": ${key} needs a value (${key}=...)`, { entry, key });
  }
  switch (key) {
    case "loss":
      p.loss = fraction(entry, key, v);
      return;
    case "burst": {
      const n = Number(v);
      if (!/^\d+(?:\.\d+)?$/.test(v) || n < 1) {
        throw new ConfigError(`"${entry}": burst is a mean burst length in packets, >= 1`, {
          entry,
          key,
        });
      }
      p.burst = n;
      return;
    }
    case "delay":
      p.delayMs = duration(entry, key, v);
      return;
    case "jitter":
      p.jitterMs = duration(entry, key, v);
      return;
    case "rate":
      p.rateBps = rate(entry, v);
      return;
    case "queue":
      p.queue = queue(entry, v);
      return;
    case "reorder":
      p.reorder = fraction(entry, key, v);
      return;
  }
}

function setHostKey(h: HostParams, entry: string, key: string, v: string | undefined): void {
  if (key === "ifdown") {
    h.ifdown = flag(entry, key, v);
    return;
  }
  if (v === undefined || !isIPv4(v)) {
    throw new ConfigError(`"${entry}": address is an IPv4 address`, { entry, key });
  }
  h.address = v;
}

function emptyConditions(): LabConditions {
  return { links: new Map(), hosts: new Map() };
}

/**
 * Parses a spec against the lab's names; throws ConfigError naming the bad
 * entry. Only what the spec mentions appears in the result.
 */
export function parseConditions(spec: string, targets: ConditionTargets): LabConditions {
  const out = emptyConditions();
  for (const raw of spec.split(/[,;\n]/)) {
    const entry = raw.trim();
    if (entry === "" || entry.startsWith("#")) continue;
    const [head = "", ...pairs] = entry.split(":");
    const m = /^([a-z][a-z0-9-]*)(?:\/(up|down))?$/.exec(head);
    if (!m?.[1]) {
      throw new ConfigError(`"${entry}": starts with a link name, e.g. board or board/up`, {
        entry,
      });
    }
    const target = m[1];
    const dir = m[2] as Direction | undefined;
    const group = targets.groups[target];
    const names = group ?? [target];
    if (!group && !targets.links.includes(target)) {
      const known = [...targets.links, ...Object.keys(targets.groups)].join(", ");
      throw new ConfigError(`"${entry}": no link "${target}" in this lab (${known})`, {
        entry,
      });
    }
    if (pairs.length === 0) {
      throw new ConfigError(`"${entry}": say what to change, e.g. ${target}:delay=40ms`, {
        entry,
      });
    }
    for (const pair of pairs) {
      const eq = pair.indexOf("=");
      const key = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? undefined : pair.slice(eq + 1);
      if (HOST_KEYS.includes(key)) {
        if (dir) {
          throw new ConfigError(`"${entry}": ${key} is about the host, not one direction`, {
            entry,
            key,
          });
        }
        for (const name of names) {
          if (!targets.hosts.includes(name)) {
            throw new ConfigError(`"${entry}": ${name} has no host whose ${key} can change`, {
              entry,
              key,
            });
          }
          const host = out.hosts.get(name) ?? {};
          setHostKey(host, entry, key, value);
          out.hosts.set(name, host);
        }
      } else if (LINK_KEYS.includes(key)) {
        for (const name of names) {
          const link = out.links.get(name) ?? { up: {}, down: {} };
          for (const d of dir ? [dir] : DIRECTIONS) setLinkKey(link[d], entry, key, value);
          out.links.set(name, link);
        }
      } else {
        throw new ConfigError(
          `"${entry}": unknown key "${key}" (${[...LINK_KEYS, ...HOST_KEYS].join(", ")})`,
          { entry, key },
        );
      }
    }
  }
  for (const [name, link] of out.links) {
    for (const d of DIRECTIONS) {
      const p = link[d];
      if (p.burst !== undefined && p.loss === undefined) {
        throw new ConfigError(`${name}/${d}: burst needs a loss rate (loss=...:burst=...)`, {
          link: name,
        });
      }
    }
  }
  return out;
}

/**
 * Gilbert-Elliott transition probabilities for a mean loss L and a mean
 * burst length B (simple Gilbert model: all lost in the bad state, none in
 * the good one; Hasslinger and Hohlfeld, "The Gilbert-Elliott model for
 * packet loss in real time services on the Internet", 2008):
 * r = 1/B, p = L r / (1 - L). Without B the loss is independent: p = L, r = 1 - L.
 */
export function gilbertElliott(loss: number, burst?: number): { p: number; r: number } {
  if (burst === undefined) return { p: loss, r: 1 - loss };
  if (loss >= 1) return { p: 1, r: 0 };
  const r = 1 / burst;
  return { p: Math.min(1, (loss * r) / (1 - loss)), r };
}

const ppm = (f: number): number => Math.round(f * 1e6);
const us = (ms: number): number => Math.round(ms * 1000);

/** The link emulator's `set` parameters for one direction (firmware-sim/linkem/linkem.c). */
export function linkemParams(p: LinkParams): string {
  const out: string[] = [];
  if (p.loss !== undefined && p.loss > 0) {
    const ge = gilbertElliott(p.loss, p.burst);
    out.push(`ge_p=${ppm(ge.p)}`, `ge_r=${ppm(ge.r)}`);
  }
  if (p.rateBps !== undefined) {
    const q = p.queue ?? { ms: DEFAULT_QUEUE_MS };
    const queueUs = "ms" in q ? us(q.ms) : Math.round((q.bytes * 8 * 1e6) / p.rateBps);
    out.push(`rate=${p.rateBps}`, `queue=${queueUs}`);
  }
  if (p.delayMs) out.push(`delay=${us(p.delayMs)}`);
  if (p.jitterMs) out.push(`jitter=${us(p.jitterMs)}`);
  if (p.reorder) out.push(`reorder=${ppm(p.reorder)}`);
  if (p.down) out.push("down=1");
  return out.join(" ");
}

function formatRate(bps: number): string {
  if (bps % 1e6 === 0) return `${bps / 1e6}mbit`;
  if (bps % 1e3 === 0) return `${bps / 1e3}kbit`;
  return `${bps}bit`;
}

const pct = (f: number): string => `${Math.round(f * 1e6) / 1e4}%`;

function formatLinkParams(p: LinkParams): string[] {
  const out: string[] = [];
  if (p.loss !== undefined) out.push(`loss=${pct(p.loss)}`);
  if (p.burst !== undefined) out.push(`burst=${p.burst}`);
  if (p.delayMs !== undefined) out.push(`delay=${p.delayMs}ms`);
  if (p.jitterMs !== undefined) out.push(`jitter=${p.jitterMs}ms`);
  if (p.rateBps !== undefined) out.push(`rate=${formatRate(p.rateBps)}`);
  if (p.queue !== undefined)
    out.push("ms" in p.queue ? `queue=${p.queue.ms}ms` : `queue=${p.queue.bytes}b`);
  if (p.reorder !== undefined) out.push(`reorder=${pct(p.reorder)}`);
  if (p.down !== undefined) out.push(p.down ? "down" : "down=off");
  return out;
}

/** The conditions as control-file text, one line per link, direction and host. */
export function formatConditions(c: LabConditions): string {
  const lines: string[] = [];
  for (const [name, link] of c.links) {
    const up = formatLinkParams(link.up);
    const down = formatLinkParams(link.down);
    if (up.join(":") === down.join(":")) {
      if (up.length) lines.push(`${name}:${up.join(":")}`);
    } else {
      if (up.length) lines.push(`${name}/up:${up.join(":")}`);
      if (down.length) lines.push(`${name}/down:${down.join(":")}`);
    }
  }
  for (const [name, host] of c.hosts) {
    const keys: string[] = [];
    if (host.address !== undefined) keys.push(`address=${host.address}`);
    if (host.ifdown !== undefined) keys.push(host.ifdown ? "ifdown" : "ifdown=off");
    if (keys.length) lines.push(`${name}:${keys.join(":")}`);
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** `later` applied over `earlier`, key by key (what a longer spec would say). */
export function mergeConditions(earlier: LabConditions, later: LabConditions): LabConditions {
  const out = emptyConditions();
  for (const [name, link] of earlier.links)
    out.links.set(name, { up: { ...link.up }, down: { ...link.down } });
  for (const [name, link] of later.links) {
    const base = out.links.get(name) ?? { up: {}, down: {} };
    out.links.set(name, { up: { ...base.up, ...link.up }, down: { ...base.down, ...link.down } });
  }
  for (const [name, host] of earlier.hosts) out.hosts.set(name, { ...host });
  for (const [name, host] of later.hosts) out.hosts.set(name, { ...out.hosts.get(name), ...host });
  return out;
}
