/**
 * WHIP egress against a WHIP server nobody here wrote: the real gateway
 * (`camgw run --source sim --whip-url ...`) pushes to Meetecho's
 * simple-whip-server in front of Debian's Janus 1.1.2 (gateway/src/testing/
 * janus.ts), and Debian's Chromium watches the Janus VideoRoom. Then the
 * media server restarts and the push comes back by itself; the gateway's
 * shutdown DELETEs the session.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { ROOM, startJanusWhip, type JanusWhip } from "../../gateway/src/testing/janus.js";
import { launchChromium, screenshot, waitFor } from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";
import { startPlayerPage, type PlayerPage } from "./harness/player-page.js";

describe("WHIP egress to Janus through simple-whip-server", () => {
  let media: JanusWhip;
  let gateway: GatewayProcess;
  let player: PlayerPage;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    media = await startJanusWhip();
    gateway = await GatewayProcess.start({
      deviceId: "whip1",
      // A short consent timeout: the test waits for the push to notice the server is gone.
      args: ["--whip-url", media.whipUrl, "--whip-token", media.token, "--consent-timeout", "4"],
    });
    player = await startPlayerPage();
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await page.goto(player.url);
  }, 90_000);

  afterAll(async () => {
    await browser.close();
    await gateway.close();
    await player.close();
    await media.stop();
  });

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${gateway.httpUrl}metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(" ")[1]) : 0;
  }

  async function watch(): Promise<string> {
    const id = await waitFor(
      "a Janus viewer of the pushed stream",
      () =>
        page.evaluate(({ u, r }) => window.whepTest.janus(u, r), { u: media.janusUrl, r: ROOM }),
      30_000,
    );
    await waitFor(
      "frames through Janus",
      async () => {
        const s = await page.evaluate((i) => window.whepTest.janusState(i), id);
        return s.frames > 30 ? s : undefined;
      },
      30_000,
    );
    return id;
  }

  it("pushes the stream, which a Chromium viewer of the Janus room plays", async () => {
    await waitFor("the push", async () => (await metric("camgw_whip_pushing")) === 1, 30_000);
    // The push alone keeps the camera running, and is one session of the stream.
    expect(await metric("camgw_source_running")).toBe(1);
    expect(await metric('camgw_sessions_by_transport{transport="whip"}')).toBe(1);
    const id = await watch();
    const state = await page.evaluate((i) => window.whepTest.janusState(i), id);
    expect(state.width).toBe(1280);
    await screenshot(page, "whip-janus-viewer");
    await page.evaluate((i) => window.whepTest.janusClose(i), id);
  });

  it("comes back by itself after the media server restarts", async () => {
    const connects = await metric("camgw_whip_connects_total");
    await media.restart();
    await waitFor(
      "the push to come back",
      async () => (await metric("camgw_whip_connects_total")) > connects,
      60_000,
    );
    expect(await metric("camgw_whip_failures_total")).toBeGreaterThan(0);
    const id = await watch();
    await page.evaluate((i) => window.whepTest.janusClose(i), id);
  });

  it("DELETEs its WHIP session when the gateway stops", async () => {
    await waitFor("the push", async () => (await metric("camgw_whip_pushing")) === 1, 30_000);
    const count = (): number => media.output().split("[camgw] Terminating WHIP session").length - 1;
    const before = count();
    await gateway.stop();
    // simple-whip-server logs the DELETE and removes the publisher from the room.
    await waitFor("the DELETE in its log", () => Promise.resolve(count() === before + 1));
    const publishers = await listPublishers(media.janusUrl);
    expect(publishers).toEqual([]);
  });
});

/** The room's publishers, through Janus's REST API from Node. */
async function listPublishers(janusUrl: string): Promise<number[]> {
  const post = async (url: string, body: object): Promise<Record<string, unknown>> => {
    const res = await fetch(url, {
      method: "POST",
      body: JSON.stringify({ ...body, transaction: "t" }),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const session = ((await post(janusUrl, { janus: "create" })).data as { id: number }).id;
  const handle = (
    (await post(`${janusUrl}/${session}`, { janus: "attach", plugin: "janus.plugin.videoroom" }))
      .data as { id: number }
  ).id;
  const reply = await post(`${janusUrl}/${session}/${handle}`, {
    janus: "message",
    body: { request: "listparticipants", room: ROOM },
  });
  const data = (
    reply.plugindata as { data: { participants: { id: number; publisher: boolean }[] } }
  ).data;
  await post(`${janusUrl}/${session}`, { janus: "destroy" });
  return data.participants.filter((p) => p.publisher).map((p) => p.id);
}
