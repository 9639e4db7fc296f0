/**
 * A lab leaves nothing behind, however it ends: close(), Ctrl-C on
 * `firmware-sim net up`, a SIGKILLed owner (its reaper cleans), and an
 * owner killed together with its reaper (the next lab's sweep cleans),
 * while a live lab next to it is left alone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { simRoot } from "../test-support.js";
import { startNetLab } from "./net-lab.js";
import { labDir, readRecord, sweepStaleLabs } from "./registry.js";
import { runCommand } from "./shell.js";
import { alive, ensureLinkemBuilt, eventually, leftovers } from "./test-support.js";

const hostState = async (): Promise<string> =>
  (await runCommand("ip", ["-o", "link"])).stdout +
  (await runCommand("nft", ["list", "ruleset"])).stdout;

async function pidsIn(ns: string): Promise<number[]> {
  const r = await runCommand("ip", ["netns", "pids", ns]);
  return r.stdout.split("\n").filter(Boolean).map(Number);
}

interface NetUp {
  child: ChildProcess;
  id: string;
  /** Processes inside the lab (emulators, coturn, Mosquitto). */
  pids: number[];
  reaperPid: number;
  exited: Promise<number | null>;
}

const started: NetUp[] = [];

/** `firmware-sim net up` in a child process, once it says the lab is up. */
async function netUp(): Promise<NetUp> {
  const child = spawn(
    process.execPath,
    [join(simRoot, "bin", "firmware-sim.js"), "net", "up", "--viewer-nat", "none"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const stdout = child.stdout;
  const id = await new Promise<string>((resolve, reject) => {
    createInterface({ input: stdout }).on("line", (line) => {
      const m = /lab (cgl-\S+) is up/.exec(line);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`net up exited ${code}: ${err}`)));
  });
  const record = readRecord(labDir(id));
  const pids = (await Promise.all((record?.namespaces ?? []).map(pidsIn))).flat();
  const up = { child, id, pids, reaperPid: record?.reaperPid ?? 0, exited };
  started.push(up);
  return up;
}

function gone(up: NetUp): () => boolean {
  return () => {
    const left = leftovers(up.id);
    return (
      left.namespaces.length === 0 && !left.folder && !up.pids.some(alive) && !alive(up.reaperPid)
    );
  };
}

describe("cleaning up a lab", () => {
  afterEach(async () => {
    for (const up of started.splice(0)) {
      if (up.child.exitCode === null) up.child.kill("SIGINT");
      await up.exited;
    }
    await sweepStaleLabs();
  });

  it("close() removes namespaces, processes and files, leaves the host as it was, and can run twice", async () => {
    ensureLinkemBuilt();
    const before = await hostState();
    const lab = await startNetLab({ boardNat: "symmetric", viewerNats: ["eim", "udp-blocked"] });
    const pids = (await Promise.all(lab.namespaces().map(pidsIn))).flat();
    const reaperPid = readRecord(lab.dir)?.reaperPid ?? 0;
    expect(pids.length).toBeGreaterThanOrEqual(7); // 5 emulators, coturn, Mosquitto
    expect(alive(reaperPid)).toBe(true);
    // The lab touched no interface or firewall of the namespace it runs in.
    expect(await hostState()).toBe(before);
    await lab.close();
    await lab.close();
    expect(leftovers(lab.id)).toEqual({ namespaces: [], folder: false });
    expect(pids.filter(alive)).toEqual([]);
    expect(await eventually(() => !alive(reaperPid), 5000)).toBe(true);
    expect(await hostState()).toBe(before);
  });

  it("Ctrl-C on firmware-sim net up removes the lab before it exits", async () => {
    ensureLinkemBuilt();
    const up = await netUp();
    expect(up.pids.length).toBeGreaterThanOrEqual(5);
    up.child.kill("SIGINT");
    expect(await up.exited).toBe(0);
    expect(gone(up)()).toBe(true);
  });

  it("a SIGKILLed owner's lab is removed by its reaper", async () => {
    ensureLinkemBuilt();
    const up = await netUp();
    up.child.kill("SIGKILL");
    await up.exited;
    expect(await eventually(gone(up))).toBe(true);
  });

  it("a lab whose owner and reaper were both killed is swept, and a live lab next to it is not", async () => {
    ensureLinkemBuilt();
    const dead = await netUp();
    const live = await netUp();
    process.kill(dead.reaperPid, "SIGKILL");
    dead.child.kill("SIGKILL");
    await dead.exited;
    // Nobody cleaned: coturn and Mosquitto still run in the dead lab's namespaces.
    await new Promise((r) => setTimeout(r, 500));
    expect(leftovers(dead.id).namespaces.length).toBeGreaterThan(0);
    expect(dead.pids.some(alive)).toBe(true);
    const swept = await sweepStaleLabs();
    expect(swept).toContain(dead.id);
    expect(swept).not.toContain(live.id);
    expect(gone(dead)()).toBe(true);
    expect(leftovers(live.id).namespaces.sort()).toEqual(
      [...(readRecord(labDir(live.id))?.namespaces ?? ["?"])].sort(),
    );
    expect(live.pids.every(alive)).toBe(true);
    live.child.kill("SIGINT");
    expect(await live.exited).toBe(0);
    expect(gone(live)()).toBe(true);
  });
});
