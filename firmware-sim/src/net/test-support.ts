/**
 * Helpers for the network lab's own tests: build the link emulator, put a
 * STUN-like echo on the lab's internet, and look for anything a lab left.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { simRoot } from "../test-support.js";
import type { LabAgent } from "./agent-client.js";
import type { NetLab } from "./net-lab.js";
import { labDir, listNamespaces } from "./registry.js";

let built = false;

/** Builds camgw-linkem (make is a no-op when it is current) once per test process. */
export function ensureLinkemBuilt(): void {
  if (built) return;
  execFileSync("make", ["-s", "-C", join(simRoot, "linkem")], { stdio: "inherit" });
  built = true;
}

/** Echo sockets on the TURN server's host: two ports on one address, and a second address. */
export interface Echo {
  agent: LabAgent;
  main: string;
  otherPort: string;
  otherAddress: string;
}

export async function startEcho(lab: NetLab): Promise<Echo> {
  const agent = await lab.agent("turn");
  const [a, b] = lab.plan.services.find((s) => s.name === "turn")?.addresses ?? [];
  await agent.bind("main", { address: a, port: 4000, echo: true });
  await agent.bind("otherPort", { address: a, port: 4001, echo: true });
  await agent.bind("otherAddress", { address: b, port: 4000, echo: true });
  return {
    agent,
    main: `${a}:4000`,
    otherPort: `${a}:4001`,
    otherAddress: `${b}:4000`,
  };
}

/** What is left of a lab: its namespaces and whether its folder exists. */
export function leftovers(id: string): { namespaces: string[]; folder: boolean } {
  return {
    namespaces: listNamespaces().filter((ns) => ns.startsWith(`${id}-`)),
    folder: existsSync(labDir(id)),
  };
}

/** True while the process runs (a zombie waiting for its parent has ended). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Polls until `check` holds (a throw counts as not yet) or the time is up; returns whether it held. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = await Promise.resolve()
      .then(check)
      .catch(() => false);
    if (held) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
