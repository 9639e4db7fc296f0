import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assertBuilt, CAMGW_BIN, startGateway } from "../testing/gateway-process.js";

const dir = mkdtempSync(join(tmpdir(), "camgw-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("camgw run", () => {
  it("runs from the file `camgw config` printed (sources, sizes and lists load back)", async () => {
    assertBuilt();
    const printed = spawnSync(
      process.execPath,
      [
        CAMGW_BIN,
        "config",
        "--device-id",
        "roundtrip",
        "--source",
        "sim",
        "--size",
        "640x480",
        "--ice-host-addresses",
        "127.0.0.1",
        "--listen",
        "127.0.0.1",
        "--http-port",
        "0",
        "--mqtt-port",
        "0",
      ],
      { encoding: "utf8" },
    );
    expect(printed.status, printed.stderr).toBe(0);
    const file = join(dir, "effective.yaml");
    writeFileSync(file, printed.stdout);
    // Only --config: everything else comes from the printed file.
    const gw = await startGateway({ sim: null, args: ["--config", file] });
    try {
      expect(gw.output()).toContain("camgw: device camgw/roundtrip from v4l2:/dev/video0");
    } finally {
      await gw.stop();
    }
  });

  it("says at start-up that the device id is the host name, and which flag sets another", async () => {
    // Issue 13 item 3: `camgw probe porch` failed as written, the id being the host name.
    const r = await ctrlC([], "signaling: connected");
    const id =
      hostname()
        .replace(/[^A-Za-z0-9_-]/g, "-")
        .slice(0, 64) || "camgw";
    expect(r.out).toContain(`camgw: device camgw/${id} from `);
    expect(r.out).toContain(`(id "${id}" is the host name; --device-id sets it)`);
  });

  it("exits 0 when Ctrl-C reaches every process of the terminal's group at once", async () => {
    // Up and connected: a shutdown while signaling still connects is the next test.
    const r = await ctrlC([], "signaling: connected");
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("SIGINT: shutting down");
  });

  it("exits 0 on Ctrl-C while the broker is down, each time", async () => {
    // With nothing to close the board's camgw ends at once, while the
    // wrappers' forwarded SIGINTs are still on their way (issue 13: `make
    // run` ended in "Error 130" in 1 of 3 tries). Three tries, as a person
    // presses it again and again.
    for (let i = 0; i < 3; i++) {
      const r = await ctrlC(["--broker", "mqtt://127.0.0.1:1"], "retrying in the background");
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain("SIGINT: shutting down");
    }
  });
});

/**
 * `make run` as a person has it: `camgw run` on the virtual board (it
 * re-executes itself under firmware-sim exec: three processes), in a process
 * group of its own; once `ready` is printed, the terminal's SIGINT goes to
 * the whole group. Resolves with the exit code and everything printed.
 */
async function ctrlC(args: string[], ready: string): Promise<{ code: number | null; out: string }> {
  assertBuilt();
  const stateDir = mkdtempSync(join(dir, "state-"));
  const ports = ["--http-port", "--mqtt-port", "--https-port", "--mqtts-port"].flatMap((f) => [
    f,
    "0",
  ]);
  const child = spawn(
    process.execPath,
    [
      CAMGW_BIN,
      "run",
      "--source",
      "sim",
      "--listen",
      "127.0.0.1",
      ...ports,
      "--state-dir",
      stateDir,
      ...args,
    ],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 30_000;
  while (!out.includes(ready) && child.exitCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(out).toContain(ready);
  process.kill(-(child.pid ?? 0), "SIGINT");
  return { code: await exited, out };
}
