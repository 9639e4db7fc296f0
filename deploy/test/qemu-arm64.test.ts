/**
 * The key proof that the package works on a Pi without one: the .deb's arm64
 * addon, compiled TypeScript and npm dependencies run on Debian's own arm64
 * nodejs (trixie, as on Raspberry Pi OS) under qemu-user, and the addon lists
 * the devices of the package's own arm64 virtual board (LD_PRELOAD).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureMade, extractDeb, findDeb, repoRoot, run, sysroot } from "./helpers.js";

const qemuRun = join(repoRoot, "deploy/check/qemu-run.sh");

interface Device {
  path: string;
  driver: string;
  kind: string;
  isPiEncoder: boolean;
}

describe("the package on arm64 (qemu-user, Debian's arm64 nodejs)", () => {
  let root = "";
  let opt = "";
  let simLib = "";

  beforeAll(() => {
    ensureMade("dist", "deploy-sysroot");
    root = extractDeb(findDeb());
    opt = join(root, "opt/camgw");
    simLib = join(opt, "firmware-sim/build/libcamgw-vdev.so");
  }, 900_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Runs an ES module script placed in the unpacked /opt/camgw. */
  function arm64Node(name: string, source: string, sim: boolean, env: string[] = []) {
    const script = join(opt, name);
    writeFileSync(script, source);
    const args = [sysroot, ...(sim ? ["--sim", simLib] : [])];
    for (const e of env) args.push("--env", e);
    return run(qemuRun, [...args, "--", script], { timeout: 300_000 });
  }

  it("runs Debian's arm64 node 20", () => {
    const r = arm64Node("arch.mjs", "console.log(process.arch, process.versions.node);\n", false);
    expect(r.stderr).toBe("");
    const [arch, version] = r.stdout.trim().split(" ");
    expect(arch).toBe("arm64");
    expect(Number(version?.split(".")[0])).toBeGreaterThanOrEqual(20);
  });

  it("loads every bundled runtime dependency", () => {
    const r = arm64Node(
      "deps.mjs",
      [
        'import { readFileSync } from "node:fs";',
        'const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));',
        "const names = Object.keys(pkg.dependencies);",
        "for (const n of names) await import(n);",
        "console.log(JSON.stringify(names));",
      ].join("\n"),
      false,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout) as string[]).toContain("werift");
  });

  it("loads the arm64 addon and lists the virtual Pi 4's camera and H.264 encoder", () => {
    const r = arm64Node(
      "devices.mjs",
      [
        'import { listDevices } from "./build/native/lib/index.js";',
        "console.log(JSON.stringify(listDevices()));",
      ].join("\n"),
      true,
      ["CAMGW_SIM_PROFILE=pi4"],
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const devices = JSON.parse(r.stdout) as Device[];
    expect(devices).toContainEqual(
      expect.objectContaining({ path: "/dev/video0", kind: "capture" }),
    );
    expect(devices).toContainEqual(
      expect.objectContaining({
        path: "/dev/video11",
        driver: "bcm2835-codec",
        kind: "m2m-encoder",
        isPiEncoder: true,
      }),
    );
  });

  it("runs the packaged camgw command: devices --json", () => {
    const r = run(
      qemuRun,
      [
        sysroot,
        "--sim",
        simLib,
        "--env",
        "CAMGW_SIM_PROFILE=pi4",
        "--",
        join(opt, "gateway/bin/camgw.js"),
        "devices",
        "--json",
      ],
      { timeout: 300_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const devices = JSON.parse(r.stdout) as Device[];
    expect(devices.map((d) => d.path)).toEqual(
      expect.arrayContaining(["/dev/video0", "/dev/video11"]),
    );
  });
});
