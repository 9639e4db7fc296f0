import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/ports.js";
import { CAMGW_BIN, startGateway, type GatewayProcess } from "../testing/gateway-process.js";

/** `camgw probe ...` as a user runs it; resolves with its exit code and output. */
function probe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CAMGW_BIN, "probe", ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The probe against the real gateway on the virtual board at 1080p: the
 * M2M encoder codes 1088 rows and crops 8 in the SPS, as the Pi's does.
 */
describe("camgw probe against a 1080p camera on the virtual board", () => {
  let gw: GatewayProcess;
  let broker: string;
  let login: string[];

  beforeAll(async () => {
    gw = await startGateway({
      args: ["--device-id", "porch", "--name", "Porch", "--size", "1920x1080"],
    });
    broker = gw.mqttUrl ?? "";
    // Logged in as a person who paired with the camera (nobody watches without an account).
    login = ["--pair", gw.ownerLink];
  });

  afterAll(async () => {
    await gw.stop();
  });

  it("reports the picture as 1920x1080, as a browser shows it, with every stamp read", async () => {
    const r = await probe([
      "porch",
      "--broker",
      broker,
      ...login,
      "--seconds",
      "2",
      "--ice-host-addresses",
      "127.0.0.1",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      width: number;
      height: number;
      frames: number;
      glassToGlassMs: { samples: number } | null;
    };
    expect([report.width, report.height]).toEqual([1920, 1080]);
    expect(report.frames).toBeGreaterThan(10);
    expect(report.glassToGlassMs?.samples).toBe(report.frames);
  });

  it("lists the online cameras and how to pick one when no id is given", async () => {
    const r = await probe(["--broker", broker, ...login]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("camgw probe: which camera? Give its id: camgw probe DEVICE_ID");
    expect(r.stderr).toContain(`Cameras at ${broker} (prefix camgw):`);
    expect(r.stderr).toContain('  porch "Porch": online, 1920x1080 at 30 fps');
    expect(r.stderr).toContain("Watch one with: camgw probe porch --pair LINK (the same login)");
  });

  it("says how to log in when the broker refuses a probe without a login", async () => {
    const r = await probe(["--broker", broker]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^camgw probe: the MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+ refused the login \(Connection refused: Not authorized\): log in as a viewer\. `camgw viewer add NAME` .* camgw probe --pair LINK/m,
    );
    expect(r.stderr).not.toContain("Is `camgw run` running here?");
  });

  it("names the viewer whose login was refused, and how to get it a new link", async () => {
    const r = await probe(["porch", "--broker", broker, "--username", "owner", "--password", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the login \(Connection refused: [^)]+\) as "owner"/);
    expect(r.stderr).toContain("`camgw viewer add owner --replace` prints a new link");
  });

  it("says an id is not known, and lists the others, instead of waiting for an answer", async () => {
    const r = await probe(["garage", "--broker", broker, ...login]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`camera "garage" is not known at ${broker} (prefix camgw)`);
    expect(r.stderr).toContain('  porch "Porch": online');
    expect(r.stdout).toBe("");
  });

  it("says the cameras are under another prefix when the prefix is wrong", async () => {
    const r = await probe(["porch", "--broker", broker, ...login, "--prefix", "site2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No camera has a status at");
    expect(r.stderr).toContain("--prefix");
  });

  it("says the broker cannot be reached, and what to check", async () => {
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const r = await probe(["porch", "--broker", dead]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot reach the MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED/,
    );
    expect(r.stderr).toContain("Is `camgw run` running here?");
  });
});
