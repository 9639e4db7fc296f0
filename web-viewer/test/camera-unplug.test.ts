/**
 * A camera unplugged mid-call (issue 14): the page keeps its call, says
 * "Camera unavailable" over the last frame, and plays again on the same
 * call once the camera is back. The virtual board's live control file
 * (docs/firmware-sim.md) pulls the camera out and puts it back.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  launchChromium,
  openViewer,
  screenshot,
  tileStats,
  waitFor,
  waitPlaying,
} from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";

describe("a camera unplugged while Chromium watches", () => {
  let browser: Browser;
  let gateway: GatewayProcess;
  let dir: string;
  let control: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "camgw-unplug-"));
    control = join(dir, "faults");
    writeFileSync(control, "");
    gateway = await GatewayProcess.start({ deviceId: "cam4", sim: { controlFile: control } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser.close();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows camera unavailable over the last frame, then video again on the same call", async () => {
    const page = await openViewer(browser, gateway.viewerUrl("?device=cam4"));
    const before = await waitPlaying(page, "cam4");

    writeFileSync(control, "unplug");
    const away = await waitFor("the page to say the camera is unavailable", async () => {
      const t = await tileStats(page, "cam4");
      return t?.phase === "unavailable" ? t : undefined;
    });
    const tile = page.locator('[data-device="cam4"]');
    const cover = tile.locator(".cover");
    expect(await cover.isVisible()).toBe(true);
    expect(await cover.getAttribute("data-phase")).toBe("unavailable");
    expect(await cover.textContent()).toMatch(/Camera unavailable.*disconnected/);
    // Over the last frame: the video keeps its picture, and the cover lets it show.
    expect(away.videoWidth).toBe(1280);
    const background = await cover.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(background).toMatch(/rgba\(.*, 0\.\d+\)/);
    await screenshot(page, "camera-unavailable");

    writeFileSync(control, "");
    const backAt = performance.now();
    const after = await waitPlaying(page, "cam4");
    console.log(
      `Chromium: playing again ${Math.round(performance.now() - backAt)} ms (at most; polled) after the camera came back`,
    );
    // The same call: no hang-up, no new offer, no ICE restart.
    expect(after.session).toBe(before.session);
    expect(after.callsStarted).toBe(before.callsStarted);
    expect(after.iceRestarts).toBe(before.iceRestarts);
    expect(after.frames).toBeGreaterThan(away.frames);
    expect(await cover.isVisible()).toBe(false);
    await screenshot(page, "camera-back");
    await page.context().close();
  });
});
