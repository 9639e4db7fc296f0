/**
 * Debian's Chromium runs inside a lab namespace through lab.chromiumPath(),
 * driven by playwright-core over its pipe transport (ip netns exec execs
 * Chromium in place, so the pipe's file descriptors pass through).
 */
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNetLab, type NetLab } from "./net-lab.js";
import { ensureLinkemBuilt, eventually } from "./test-support.js";

describe("Chromium on a viewer site", () => {
  let lab: NetLab;
  let browser: Browser;
  let serverLog = "";

  beforeAll(async () => {
    ensureLinkemBuilt();
    lab = await startNetLab({
      boardNat: "none",
      viewerNats: ["symmetric"],
      broker: false,
      turn: false,
    });
    // A web server on the lab's internet (the TURN host's address).
    const server = lab.spawn(
      "turn",
      "python3",
      ["-u", "-m", "http.server", "8000", "--bind", "198.18.0.2"],
      { cwd: lab.dir, stdio: ["ignore", "ignore", "pipe"] },
    );
    server.stderr?.on("data", (c: Buffer) => (serverLog += c.toString()));
    browser = await chromium.launch({
      executablePath: await lab.chromiumPath("viewer1"),
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
      headless: true,
    });
  });
  afterAll(async () => {
    await browser.close();
    await lab.close();
  });

  it("loads a page from the lab's internet through the viewer's NAT", async () => {
    const page = await browser.newPage();
    expect(
      await eventually(async () => {
        const r = await page.goto("http://198.18.0.2:8000/lab.json").catch(() => null);
        return r?.ok() === true;
      }, 10_000),
    ).toBe(true);
    expect(await page.textContent("body")).toContain(lab.id);
    // The server saw the viewer's NAT, not the viewer's private address.
    const seen = /^198\.18\.11\.2 - - .*"GET \/lab\.json HTTP\/1\.1" 200/m;
    const ok = await eventually(() => seen.test(serverLog), 5000);
    expect(ok, serverLog).toBe(true);
    expect(serverLog).not.toContain(lab.address("viewer1"));
  });
});
