/**
 * The page the gateway serves, when the gateway uses an external broker
 * (issue 13): `camgw run --broker mqtt://...` bridges /mqtt on its web ports
 * to Debian's Mosquitto, set up with `camgw broker-config mosquitto` (its
 * passwords and ACL), so the page plays with no broker setting at all and
 * logs in to Mosquitto with the viewer's own credentials.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CAMGW_BIN } from "../../gateway/src/testing/gateway-process.js";
import { Mosquitto } from "../../gateway/src/testing/mosquitto.js";
import { freePort } from "../../gateway/src/testing/ports.js";
import { launchChromium, openViewer, screenshot, waitFor, waitPlaying } from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";

const run = promisify(execFile);

describe("the served page with an external Mosquitto, in Chromium", () => {
  let browser: Browser;
  let gateway: GatewayProcess;
  let mosquitto: Mosquitto;
  let filesDir: string;

  beforeAll(async () => {
    const port = await freePort();
    // The gateway first (its link retries until Mosquitto is up): its first
    // start makes the owner, whom broker-config writes into Mosquitto's files.
    gateway = await GatewayProcess.start({
      deviceId: "cam7",
      args: ["--broker", `mqtt://127.0.0.1:${port}`],
    });
    filesDir = await mkdtemp(join(tmpdir(), "camgw-broker-files-"));
    await run(process.execPath, [
      CAMGW_BIN,
      "broker-config",
      "mosquitto",
      ...["--out", filesDir, "--state-dir", gateway.stateDir, "--device-id", "cam7"],
      ...["--listener", `${port} 127.0.0.1`],
    ]);
    const conf = (await readFile(join(filesDir, "camgw.conf"), "utf8"))
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"));
    mosquitto = await Mosquitto.start({ settings: conf, plainPort: port });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser.close();
    await gateway.close();
    await mosquitto.close();
    await rm(filesDir, { recursive: true, force: true });
  });

  it("plays through /mqtt on the gateway, bridged to Mosquitto", async () => {
    expect(gateway.output).toMatch(
      /^camgw: external MQTT broker mqtt:\/\/127\.0\.0\.1:\d+, bridged for the page at ws:\/\/127\.0\.0\.1:\d+\/mqtt$/m,
    );
    // No broker= in the link: the page takes its default, ws://<gateway>/mqtt.
    const page = await openViewer(browser, gateway.viewerUrl("?device=cam7"));
    const playing = await waitPlaying(page, "cam7", 45_000);
    expect(playing.videoWidth).toBe(1280);
    expect(
      await waitFor(
        "broker state",
        async () => (await page.evaluate(() => window.camgwStats?.broker)) ?? undefined,
      ),
    ).toBe("connected");
    await screenshot(page, "external-broker");
    await page.context().close();
  });

  it("refuses the bridge to a page from a foreign origin, as the embedded broker's /mqtt does", async () => {
    const ws = new WebSocket(gateway.wsUrl, "mqtt", { origin: "http://evil.example" });
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode));
      ws.once("open", () => resolve(101));
      ws.once("error", () => resolve(undefined));
    });
    ws.terminate();
    expect(status).toBe(403);
  });
});
