/**
 * The page recovers on its own: after the gateway restarts (embedded broker
 * and camera go away together) and after an external broker restarts
 * (Debian's Mosquitto; the gateway and the page both reconnect to it).
 */
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
import { Mosquitto } from "../../gateway/src/testing/mosquitto.js";

describe("recovery in Chromium", () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser.close();
  });

  it("plays again after the gateway restarts", async () => {
    const gateway = await GatewayProcess.start({ deviceId: "cam1" });
    try {
      const page = await openViewer(browser, gateway.viewerUrl("?device=cam1"));
      const before = await waitPlaying(page, "cam1");
      await gateway.stop();
      // The clean shutdown says bye and publishes offline; the page shows it.
      await waitFor("the page to notice", async () => {
        const t = await tileStats(page, "cam1");
        return t && t.phase !== "playing" ? t : undefined;
      });
      await screenshot(page, "gateway-down");
      await gateway.start();
      const after = await waitPlaying(page, "cam1", 45_000);
      expect(after.callsStarted).toBeGreaterThan(before.callsStarted);
      expect(after.videoWidth).toBe(1280);
      await page.context().close();
    } finally {
      await gateway.close();
    }
  });

  it("keeps or resumes playing after the external broker restarts", async () => {
    const mosquitto = await Mosquitto.start({ websockets: true });
    const gateway = await GatewayProcess.start({
      deviceId: "cam2",
      args: ["--broker", mosquitto.mqttUrl],
    });
    try {
      const page = await openViewer(
        browser,
        gateway.viewerUrl(`?device=cam2&broker=${encodeURIComponent(mosquitto.wsUrl)}`),
      );
      await waitPlaying(page, "cam2");
      expect(
        await waitFor(
          "broker state",
          async () => (await page.evaluate(() => window.camgwStats?.broker)) ?? undefined,
        ),
      ).toBe("connected");
      await mosquitto.stop();
      await waitFor(
        "the page to see the broker gone",
        async () => (await page.evaluate(() => window.camgwStats?.broker)) !== "connected",
      );
      // Media does not go through the broker: the picture keeps moving meanwhile.
      const during = await tileStats(page, "cam2");
      await waitFor("frames while the broker is down", async () => {
        const t = await tileStats(page, "cam2");
        return t && during && t.frames > during.frames + 15 && t.phase === "playing";
      });
      await screenshot(page, "broker-down");
      await mosquitto.start();
      await waitFor(
        "the page to reconnect to the broker",
        async () => (await page.evaluate(() => window.camgwStats?.broker)) === "connected",
        30_000,
      );
      const after = await waitPlaying(page, "cam2", 45_000);
      expect(after.videoWidth).toBe(1280);
      const chip = await page.locator(".chip").textContent();
      expect(chip).toContain("connected");
      await page.context().close();
    } finally {
      await gateway.close();
      await mosquitto.close();
    }
  });
});
