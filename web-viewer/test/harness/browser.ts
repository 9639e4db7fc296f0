/**
 * Debian's Chromium (/usr/bin/chromium, from deps/apt/dev/web-viewer.txt) driven
 * by playwright-core: headless, fresh profile, autoplay allowed. No browser
 * is ever downloaded.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { TileSnapshot } from "../../src/tile.js";
import { REPO_ROOT } from "../../../gateway/src/testing/gateway-process.js";

export const CHROMIUM = "/usr/bin/chromium";

/** Screenshots a person can look at, kept as CI artefacts (gitignored). */
export const screenshotDir = join(REPO_ROOT, "artifacts", "screenshots");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
  // Tests keep media on 127.0.0.1 (the gateway offers only that address):
  // let Chromium gather loopback candidates, and give raw addresses rather
  // than mDNS names, whose resolution would multicast on the LAN.
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];

/** playwright's launch() gives every browser a fresh temporary profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A page in its own context (own storage), so two pages are two viewers.
 * `bypassCsp` lets a test inject its own page script (av-probe.ts: a script,
 * a blob: AudioWorklet module and a blob: worker), which the viewer's
 * Content Security Policy (script-src 'self') rightly refuses; `beforeLoad`
 * runs before the page's own scripts.
 */
export async function openViewer(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 800 },
  { bypassCsp = false, beforeLoad }: { bypassCsp?: boolean; beforeLoad?: () => void } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport, bypassCSP: bypassCsp });
  // Runs in the page before its own scripts (av-probe.ts: to see its peer connections).
  if (beforeLoad) await context.addInitScript(beforeLoad);
  const page = await context.newPage();
  page.on("console", (msg) => {
    // Refused WebSocket connects are expected while a broker restarts.
    if (msg.type() === "error" && !msg.text().includes("WebSocket"))
      console.log(`[page] ${msg.text()}`);
  });
  await page.goto(url);
  return page;
}

export interface PageStats {
  viewerId: string | undefined;
  broker: string;
  brokerUrl: string;
  tiles: Record<string, TileSnapshot>;
}

export async function pageStats(page: Page): Promise<PageStats> {
  const json = await page.evaluate(() => JSON.stringify(window.camgwStats ?? null));
  const stats = JSON.parse(json) as PageStats | null;
  if (!stats) throw new Error("window.camgwStats is missing: the viewer did not start");
  return stats;
}

export async function tileStats(page: Page, deviceId: string): Promise<TileSnapshot | undefined> {
  return (await pageStats(page)).tiles[deviceId];
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until the tile plays and its frame count rises between two reads. */
export async function waitPlaying(
  page: Page,
  deviceId: string,
  timeoutMs = 30_000,
): Promise<TileSnapshot> {
  const first = await waitFor(
    `${deviceId} to play`,
    async () => {
      const t = await tileStats(page, deviceId);
      return t?.phase === "playing" && t.frames > 0 ? t : undefined;
    },
    timeoutMs,
  );
  return waitFor(
    `${deviceId} frames to keep coming`,
    async () => {
      const t = await tileStats(page, deviceId);
      return t && t.phase === "playing" && t.frames > first.frames ? t : undefined;
    },
    timeoutMs,
  );
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
