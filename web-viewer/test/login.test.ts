/**
 * Logging in, in Chromium, against `camgw run --source sim`: no camera
 * before a login, the pairing link logs in and leaves the address bar, a
 * pasted link or a name and password work too, a refused login asks again,
 * and the HTTPS page (the one a phone opens) plays over wss.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  launchChromium,
  openViewer,
  pageStats,
  screenshot,
  waitFor,
  waitPlaying,
} from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";

describe("logging in to the viewer in Chromium", () => {
  let browser: Browser;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({ deviceId: "cam4" });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser.close();
    await gateway.close();
  });

  it("shows a login and no camera without a stored login", async () => {
    const page = await openViewer(browser, `${gateway.httpUrl}?device=cam4`);
    await page.getByRole("heading", { name: "Log in to watch" }).waitFor();
    expect(await page.locator(".tile").count()).toBe(0);
    expect(await page.locator("main.layout").isHidden()).toBe(true);
    expect((await pageStats(page)).broker).toBe("none");
    await screenshot(page, "login");
    // A pasted pairing link logs in and opens the camera the link asked for.
    const link = gateway.viewerUrl("", await gateway.addViewer("pasted"));
    await page.getByLabel("Pairing link").fill(link);
    await page.getByRole("button", { name: "Log in" }).click();
    await waitPlaying(page, "cam4");
    expect((await pageStats(page)).viewerId).toBe("pasted");
    await page.context().close();
  });

  it("logs in from the pairing link, stores the login and takes the link out of the address bar", async () => {
    const page = await openViewer(browser, gateway.viewerUrl("?device=cam4"));
    await waitPlaying(page, "cam4");
    expect(page.url()).not.toContain("pair=");
    expect(page.url()).not.toContain("#");
    expect((await pageStats(page)).viewerId).toBe("owner");
    // A reload (no fragment now) logs in from storage.
    await page.reload();
    await waitPlaying(page, "cam4");
    // Log out forgets it.
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Log in to watch" }).waitFor();
    const stored = await page.evaluate(() => localStorage.getItem("camgw.viewer.broker"));
    expect(stored).toBeNull();
    await page.context().close();
  });

  it("asks again when the camera refuses the login, and takes a name and password", async () => {
    const page = await openViewer(browser, `${gateway.httpUrl}?device=cam4`);
    await page.getByLabel("Viewer name").fill("owner");
    await page.getByLabel("Viewer password").fill("wrong");
    await page.getByRole("button", { name: "Log in" }).click();
    await waitFor("the refusal", async () =>
      /did not accept the login/.test(
        (await page.locator(".login .form-error").textContent()) ?? "",
      ),
    );
    await screenshot(page, "login-refused");
    await page.getByLabel("Viewer name").fill(gateway.owner.username);
    await page.getByLabel("Viewer password").fill(gateway.owner.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await waitPlaying(page, "cam4");
    await page.context().close();
  });

  it("plays from the HTTPS page over wss, as a phone would", async () => {
    const https = gateway.httpsUrl;
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${https}?device=cam4#${gateway.viewerUrl().split("#")[1] ?? ""}`);
    await waitPlaying(page, "cam4");
    expect((await pageStats(page)).brokerUrl).toMatch(/^wss:\/\//);
    expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
    await context.close();
  });

  it("sends a removed viewer back to the login", async () => {
    const gone = await gateway.addViewer("gone");
    const page = await openViewer(browser, gateway.viewerUrl("?device=cam4", gone));
    await waitPlaying(page, "cam4");
    await gateway.removeViewer("gone");
    await page.getByRole("heading", { name: "Log in to watch" }).waitFor({ timeout: 20_000 });
    expect(await page.locator(".login .form-error").textContent()).toMatch(/did not accept/);
    await page.context().close();
  });
});
