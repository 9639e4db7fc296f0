/** The viewer limit: a second page sees "viewer limit reached" and gets in once a seat frees. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import {
  launchChromium,
  openViewer,
  screenshot,
  tileStats,
  waitFor,
  waitPlaying,
} from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";

describe("busy in Chromium", () => {
  let browser: Browser;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({ deviceId: "cam3", args: ["--max-viewers", "1"] });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser.close();
    await gateway.close();
  });

  it("shows busy when the limit is hit, then plays once the first viewer leaves", async () => {
    const first = await openViewer(browser, gateway.viewerUrl("?device=cam3"));
    await waitPlaying(first, "cam3");
    const second = await openViewer(
      browser,
      gateway.viewerUrl("?device=cam3", await gateway.addViewer("second")),
    );
    const busy = await waitFor("busy", async () => {
      const t = await tileStats(second, "cam3");
      return t?.phase === "busy" ? t : undefined;
    });
    expect(busy.frames).toBe(0);
    await expect(second.locator('.tile[data-device="cam3"] .badge').textContent()).resolves.toBe(
      "Viewer limit reached",
    );
    await screenshot(second, "busy");
    // The first viewer leaves (Close says bye); the second gets in on its next try.
    await first.getByRole("button", { name: "Stop watching cam3" }).click();
    await second.getByRole("button", { name: "Retry" }).click();
    const playing = await waitPlaying(second, "cam3", 45_000);
    expect(playing.videoWidth).toBe(1280);
  });
});
