/**
 * End to end in a real browser: Debian's Chromium plays a camera from the
 * real gateway on the virtual board (`camgw run --source sim`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import {
  launchChromium,
  openViewer,
  screenshot,
  tileStats,
  waitFor,
  waitPlaying,
} from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";
import { freePort } from "../../gateway/src/testing/ports.js";

describe("the viewer in Chromium against the gateway on the virtual board", () => {
  let gateway: GatewayProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({ deviceId: "cam1" });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser.close();
    await gateway.close();
  });

  it("lists the camera live from its retained status", async () => {
    page = await openViewer(browser, gateway.viewerUrl());
    const row = page.locator('li.camera[data-device="cam1"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await row.getAttribute("data-online")).toBe("true");
    expect(await row.textContent()).toContain("1280×720");
    await screenshot(page, "camera-list");
  });

  it("plays the camera with one click: frames decoded rise, 1280 wide", async () => {
    await page.getByRole("button", { name: /Watch Sim cam1/ }).click();
    const first = await waitPlaying(page, "cam1");
    expect(first.videoWidth).toBe(1280);
    expect(first.videoHeight).toBe(720);
    expect(new URL(page.url()).searchParams.get("device")).toBe("cam1");
    const later = await waitFor("more decoded frames", async () => {
      const t = await tileStats(page, "cam1");
      return t && t.totalVideoFrames > first.totalVideoFrames + 10 ? t : undefined;
    });
    expect(later.frames).toBeGreaterThan(first.frames);
    expect(later.ttffMs).toBeGreaterThan(0);
  });

  it("reads glass-to-glass latency from the frame stamp and shows it in the overlay", async () => {
    await page.keyboard.press("s");
    const t = await waitFor("stamped frames", async () => {
      const s = await tileStats(page, "cam1");
      return s && s.latency.count >= 30 && s.stats !== undefined ? s : undefined;
    });
    expect(t.stampedFrames).toBeGreaterThanOrEqual(30);
    // Same machine, same clock: a real latency is positive and well under a second.
    expect(t.latency.p50).toBeGreaterThan(0);
    expect(t.latency.p50).toBeLessThan(1000);
    // The same latency from each frame's capture time (abs-capture-time and
    // sender reports): what a real camera, with no stamp, shows.
    const c = await waitFor("capture-timed frames", async () => {
      const s = await tileStats(page, "cam1");
      return s && s.captureLatency.count >= 30 ? s : undefined;
    });
    expect(c.captureLatency.p50).not.toBeNull();
    expect(Math.abs((c.captureLatency.p50 ?? 0) - (c.latency.p50 ?? 0))).toBeLessThan(25);
    const shown = page.locator('.tile[data-device="cam1"] dd[data-figure="glass-to-glass"]');
    await waitFor("the latency figure", async () =>
      /\d+ ms \(p50/.test((await shown.textContent()) ?? ""),
    );
    const res = await page
      .locator('.tile[data-device="cam1"] dd[data-figure="resolution"]')
      .textContent();
    expect(res).toBe("1280×720");
    await screenshot(page, "playing-with-stats");
  });

  // Two more Chromium pages and a `camgw viewer add` process: slow on a busy machine.
  it(
    "opens a camera directly from ?device= and a grid from ?devices=",
    { timeout: 120_000 },
    async () => {
      // Viewers of their own: the owner plays in `page`, and a closed page's
      // session may linger until the gateway notices (it sends no bye), so
      // later tests (the owner's) could meet the two-sessions-per-viewer cap.
      const [alice, bob] = await Promise.all([
        gateway.addViewer("direct"),
        gateway.addViewer("grid"),
      ]);
      const direct = await openViewer(browser, gateway.viewerUrl("?device=cam1&stats=1", alice));
      const grid = await openViewer(browser, gateway.viewerUrl("?devices=cam1,nosuchcam", bob));
      try {
        await waitPlaying(direct, "cam1");
        await waitPlaying(grid, "cam1");
        const missing = await tileStats(grid, "nosuchcam");
        expect(missing?.phase).toBe("offline");
        await screenshot(grid, "grid-with-unknown-camera");
      } finally {
        await direct.context().close();
        await grid.context().close();
      }
    },
  );

  it("fits a phone-width screen without sideways scrolling", async () => {
    const phone = await openViewer(browser, gateway.viewerUrl("?device=cam1&stats=1"), {
      width: 390,
      height: 844,
    });
    await waitPlaying(phone, "cam1");
    const overflow = await phone.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBe(0);
    await screenshot(phone, "phone-width");
    await phone.context().close();
  });

  it("restarts ICE on the same session and keeps playing", async () => {
    const before = await waitPlaying(page, "cam1");
    expect(await page.evaluate(() => window.camgwDebug?.restartIce("cam1"))).toBe(true);
    const after = await waitFor("the restart to finish", async () => {
      const t = await tileStats(page, "cam1");
      return t && t.iceRestarts === before.iceRestarts + 1 && t.phase === "playing" ? t : undefined;
    });
    const resumed = await waitPlaying(page, "cam1");
    // A restart renegotiates the call it has: same session, no new call.
    expect(after.session).toBe(before.session);
    expect(after.callsStarted).toBe(before.callsStarted);
    expect(resumed.frames).toBeGreaterThan(before.frames);
  });

  it("says the broker is unreachable when nothing listens at the broker URL", async () => {
    const dead = `ws://127.0.0.1:${await freePort()}/mqtt`;
    const lost = await openViewer(
      browser,
      gateway.viewerUrl(`?device=cam1&broker=${encodeURIComponent(dead)}`),
    );
    const tile = await waitFor("the unreachable state", async () => {
      const t = await tileStats(lost, "cam1");
      return t?.phase === "unreachable" &&
        (await lost.locator(".chip").textContent())?.includes("unreachable")
        ? t
        : undefined;
    });
    expect(tile.frames).toBe(0);
    await screenshot(lost, "broker-unreachable");
    await lost.context().close();
  });

  it("takes broker settings from the form, remembers them, and puts a non-default broker in the link", async () => {
    const other = await openViewer(browser, gateway.viewerUrl("?device=cam1"));
    await waitPlaying(other, "cam1");
    const dead = `ws://127.0.0.1:${await freePort()}/mqtt`;
    await other.getByText("Broker settings").click();
    await other.getByLabel("Broker URL").fill(dead);
    await other.getByRole("button", { name: "Connect" }).click();
    await waitFor("the page to use the new broker", async () => {
      const chip = await other.locator(".chip").textContent();
      return (
        chip?.includes("unreachable") && new URL(other.url()).searchParams.get("broker") === dead
      );
    });
    expect((await tileStats(other, "cam1"))?.phase).toBe("unreachable");
    // Remembered: a fresh load of the plain link uses the saved broker.
    await other.goto(`${gateway.httpUrl}?device=cam1`);
    expect(await other.evaluate(() => window.camgwStats?.brokerUrl)).toBe(dead);
    // A bad URL is refused with a message, and nothing changes.
    await other.getByText("Broker settings").click();
    await other.getByLabel("Broker URL").fill("mqtt://127.0.0.1:1883");
    await other.getByRole("button", { name: "Connect" }).click();
    expect(await other.locator(".broker-form .form-error").textContent()).toContain(
      "ws:// or wss://",
    );
    await other.getByLabel("Broker URL").fill(gateway.wsUrl);
    await other.getByRole("button", { name: "Connect" }).click();
    await waitPlaying(other, "cam1");
    expect(new URL(other.url()).searchParams.get("broker")).toBeNull();
    await other.context().close();
  });

  it("saves a snapshot as a PNG download", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Snapshot" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^cam1-.*\.png$/);
    const path = await download.path();
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(path);
    // PNG signature (RFC 2083 section 12.12 / PNG spec 5.2).
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});
