/**
 * What a newcomer meets first, in Chromium against the gateway on the
 * virtual board: the camera row is the control (mouse and keyboard), the
 * list names each camera once, the stats never cover the picture, and the
 * stamp band on the picture is explained.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Locator, Page } from "playwright-core";
import {
  launchChromium,
  openViewer,
  screenshot,
  tileStats,
  waitFor,
  waitPlaying,
} from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function box(locator: Locator): Promise<Box> {
  const b = await locator.boundingBox();
  if (!b) throw new Error("element is not visible");
  return b;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe("the viewer's first screen in Chromium", () => {
  let gateway: GatewayProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({ deviceId: "cam4" });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser.close();
    await gateway.close();
  });

  it("names the camera once: its name, then its id only because the name differs", async () => {
    page = await openViewer(browser, gateway.viewerUrl());
    const row = page.locator('li.camera[data-device="cam4"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator(".camera-name").textContent()).toBe("Sim cam4");
    expect(await row.locator(".camera-meta").textContent()).toBe(
      "cam4 · online · 1280×720 @ 30 fps",
    );
  });

  it("watches a camera when its row is clicked anywhere, not only on Watch", async () => {
    await page.locator('li.camera[data-device="cam4"] .camera-meta').click();
    await waitPlaying(page, "cam4");
    const toggle = page.locator('li.camera[data-device="cam4"] button');
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");
    expect(await toggle.getAttribute("aria-label")).toBe("Stop watching Sim cam4");
  });

  it("stops and watches again from the keyboard (Enter and Space on the row)", async () => {
    const toggle = page.locator('li.camera[data-device="cam4"] button');
    await toggle.focus();
    await page.keyboard.press("Enter");
    await waitFor("the tile to close", async () => (await tileStats(page, "cam4")) === undefined);
    // The list re-renders; focus stays on the camera's row.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-device"))).toBe(
      "cam4",
    );
    await page.keyboard.press("Space");
    await waitPlaying(page, "cam4");
  });

  it("explains the stamp band on the picture, until told it is understood", async () => {
    const note = page.locator('.tile[data-device="cam4"] .stamp-note');
    await waitFor("the stamp note", () => note.isVisible());
    expect(await note.textContent()).toContain("frame stamp");
    await screenshot(page, "stamp-note");
    await note.getByRole("button", { name: "Got it" }).click();
    expect(await note.isVisible()).toBe(false);
    // Remembered in this browser: a new page does not show it again.
    await page.reload();
    await waitFor("stamped frames and a stats update, which would show the note", async () => {
      const t = await tileStats(page, "cam4");
      return t !== undefined && t.stampedFrames > 0 && t.stats !== undefined;
    });
    expect(await page.locator('.tile[data-device="cam4"] .stamp-note').isVisible()).toBe(false);
  });

  it("puts the stats beside the picture, never over it, with a titled latency plot", async () => {
    await page.keyboard.press("s");
    const tile = page.locator('.tile[data-device="cam4"]');
    const stats = tile.locator(".stats");
    await waitFor("latency samples in the plot", async () =>
      /last \d+ frames/.test((await stats.locator("figcaption").textContent()) ?? ""),
    );
    expect(overlaps(await box(tile.locator("video")), await box(stats))).toBe(false);
    expect(await stats.locator(".plot-axes").textContent()).toMatch(/latency in ms.*newest right/);
    await screenshot(page, "stats-beside-picture");
  });

  it("puts the stats under the picture on a phone", async () => {
    const phone = await openViewer(browser, gateway.viewerUrl("?device=cam4&stats=1"), {
      width: 390,
      height: 844,
    });
    await waitPlaying(phone, "cam4");
    const tile = phone.locator('.tile[data-device="cam4"]');
    const video = await box(tile.locator("video"));
    const stats = await box(tile.locator(".stats"));
    expect(overlaps(video, stats)).toBe(false);
    expect(stats.y).toBeGreaterThanOrEqual(video.y + video.height);
    await screenshot(phone, "phone-stats-under-picture");
    await phone.context().close();
  });
});
