import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { REPO_ROOT } from "../../gateway/src/testing/gateway-process.js";
import { leftovers } from "./net/test-support.js";
import { parseUpArgs, up } from "./up.js";

describe("firmware-sim up", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("boots a board whose headless viewer sees stamped video, then exits", async () => {
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    const code = await up([
      "--viewers",
      "1",
      "--seconds",
      "2",
      "--exit",
      "--",
      "--http-port",
      "0",
      "--mqtt-port",
      "0",
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/virtual pi4 board up/);
    // The board's state directory is fresh: only the owner's link lets a browser in.
    expect(out).toMatch(/open http:\/\/127\.0\.0\.1:\d+\/#pair=owner\.\S+ in a browser/);
    expect(out).toMatch(/video received/);
    expect(out).toMatch(/glass-to-glass +p50 [\d.]+ ms/);
  });

  it("boots the board in the network lab behind a NAT, its viewer behind another, and removes the lab", async () => {
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    const code = await up([
      "--board-nat",
      "eim",
      "--viewer-nat",
      "eim",
      "--ice",
      "stun",
      "--delay",
      "10ms",
      "--viewers",
      "1",
      // The viewer gathers once the gateway's ICE servers arrive; on this
      // shared machine the first frame came ~1.3 s after the offer, too
      // close to a 2 s watch.
      "--seconds",
      "4",
      "--exit",
    ]);
    expect(code).toBe(0);
    const id = /lab (cgl-\S+) is up/.exec(out)?.[1] ?? "";
    expect(out).toMatch(/board +host 192\.168\.1\.10 in cgl-\S+-board, behind eim/);
    expect(out).toMatch(/viewer1 +host 10\.0\.1\.10 in cgl-\S+-viewer1, behind eim/);
    expect(out).toContain("(now: board:delay=10ms)");
    expect(out).toMatch(/video received/);
    // Home NATs on both sides, STUN only: through the board's server-reflexive candidate.
    expect(out).toMatch(/ICE pair +host 10\.0\.1\.10:\d+\/udp -> srflx 198\.18\.2\.2:\d+\/udp/);
    expect(leftovers(id)).toEqual({ namespaces: [], folder: false });
  });

  it("takes the network lab's flags, and refuses bad ones", () => {
    expect(
      parseUpArgs(["--viewers", "2", "--board-nat", "symmetric", "--loss", "2%"]).net,
    ).toMatchObject({
      boardNat: "symmetric",
      viewerNats: ["eim", "eim"],
      conditions: "board:loss=2%",
    });
    expect(
      parseUpArgs(["--net", "--viewer-nat", "none,udp-blocked", "--impair", "broker:delay=75ms"])
        .net,
    ).toMatchObject({
      viewerNats: ["none"],
      conditions: "broker:delay=75ms",
    });
    expect(parseUpArgs([]).net).toBeNull();
    expect(() => parseUpArgs(["--board-nat", "cone"])).toThrow(
      /--board-nat: unknown NAT type "cone"/,
    );
    expect(() => parseUpArgs(["--turn-lifetime", "soon"])).toThrow(
      /--turn-lifetime takes whole seconds/,
    );
  });

  it("says which flag moves a port that is taken, and how to pass it, without a stack trace", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as AddressInfo;
    // Its own temporary directory, to see that the board's state directory goes too.
    const tmp = mkdtempSync(join(tmpdir(), "camgw-up-"));
    try {
      // As `make sim` runs it while `make run` holds the port.
      const r = await run(
        process.execPath,
        [
          join(REPO_ROOT, "firmware-sim", "bin", "firmware-sim.js"),
          "up",
          "--",
          "--http-port",
          String(port),
        ],
        { ...process.env, TMPDIR: tmp },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^camgw: port ${port} is already in use .*choose another port with --http-port$`,
          "m",
        ),
      );
      expect(r.stderr).toContain("make sim ARGS='-- --http-port 8081 --mqtt-port 1884'");
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      holder.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("refuses bad arguments with a message naming them", () => {
    expect(() => parseUpArgs(["--profile", "pi3"])).toThrow(/unknown profile "pi3"/);
    expect(() => parseUpArgs(["--viewers", "many"])).toThrow(/--viewers takes a whole number/);
    expect(() => parseUpArgs(["--bogus"])).toThrow(/firmware-sim up: Unknown option '--bogus'/);
    expect(parseUpArgs(["--viewers", "3", "--", "--fps", "15"])).toMatchObject({
      viewers: 3,
      gatewayArgs: ["--fps", "15"],
    });
  });
});

/** A command to its end; resolves with its exit code and stderr. */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}
