/**
 * WHEP in Debian's Chromium against the real gateway (`camgw run --source
 * sim`), from a page on another origin: our own WHEP flow (trickle PATCH,
 * ICE restart PATCH, DELETE), the npm player whip-whep 1.2.0, and every
 * refusal a player can meet, read through CORS as a player would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchChromium, screenshot, waitFor } from "./harness/browser.js";
import { GatewayProcess } from "./harness/gateway-process.js";
import { startPlayerPage, type PlayerPage } from "./harness/player-page.js";
import type { HttpResult, PlayerState } from "./whep/whep-page.js";

const TOKEN = "whep-test-token-4f1c2a9b";

describe("WHEP in Chromium", () => {
  let browser: Browser;
  let gateway: GatewayProcess;
  let player: PlayerPage;
  let page: Page;
  let endpoint: string;

  beforeAll(async () => {
    player = await startPlayerPage();
    gateway = await GatewayProcess.start({
      deviceId: "whep1",
      args: ["--whep-token", TOKEN, "--whep-cors-origins", player.origin, "--max-viewers", "2"],
    });
    endpoint = `${gateway.httpUrl}whep/main`;
    browser = await launchChromium();
    const context = await browser.newContext();
    page = await context.newPage();
    page.on("console", (msg) => {
      // Refusals are what this test asks for; Chromium logs each one.
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) {
        console.log(`[page] ${msg.text()}`);
      }
    });
    await page.goto(player.url);
  });

  afterAll(async () => {
    await browser.close();
    await gateway.close();
    await player.close();
  });

  const state = (id: string): Promise<PlayerState> =>
    page.evaluate((i) => window.whepTest.state(i), id);

  async function playing(id: string, more = 10): Promise<PlayerState> {
    const first = await waitFor(`${id} to play`, async () => {
      const s = await state(id);
      return s.frames > 0 ? s : undefined;
    });
    return waitFor(`${id} to keep playing`, async () => {
      const s = await state(id);
      return s.frames >= first.frames + more ? s : undefined;
    });
  }

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${gateway.httpUrl}metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(" ")[1]) : 0;
  }

  function request(
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ): Promise<HttpResult> {
    return page.evaluate(({ u, i }) => window.whepTest.request(u, i), { u: url, i: init });
  }

  it("plays, trickles by PATCH, restarts ICE by PATCH, and DELETE frees the session at once", async () => {
    const id = await page.evaluate(({ u, t }) => window.whepTest.own(u, t), {
      u: endpoint,
      t: TOKEN,
    });
    const played = await playing(id);
    expect(played.width).toBe(1280);
    console.log(
      `WHEP (own player): POST -> first frame ${played.timeToFirstFrameMs?.toFixed(0)} ms`,
    );
    expect(await metric('camgw_sessions_by_transport{transport="whep"}')).toBe(1);
    expect(await metric("camgw_whep_trickled_total")).toBe(1);
    await screenshot(page, "whep-own-player");

    await page.evaluate(({ i, t }) => window.whepTest.restartOwn(i, t), { i: id, t: TOKEN });
    const restarted = await playing(id, 30);
    expect(restarted.connectionState).toBe("connected");
    expect(await metric("camgw_ice_restarts_total")).toBe(1);
    expect(await metric("camgw_sessions_created_total")).toBe(1);

    const deleted = await page.evaluate(({ i, t }) => window.whepTest.stop(i, t), {
      i: id,
      t: TOKEN,
    });
    const sessionsAfter = await metric("camgw_sessions");
    console.log(`WHEP DELETE answered in ${deleted?.ms.toFixed(1)} ms, the session freed by then`);
    expect(deleted?.status).toBe(200);
    expect(sessionsAfter).toBe(0);
    expect(await metric('camgw_sessions_ended_total{reason="bye"}')).toBe(1);
  });

  it("plays with the npm player whip-whep 1.2.0, which also restarts ICE and stops", async () => {
    const id = await page.evaluate(({ u, t }) => window.whepTest.thirdParty(u, t), {
      u: endpoint,
      t: TOKEN,
    });
    const played = await playing(id);
    expect(played.width).toBe(1280);
    console.log(
      `WHEP (whip-whep): POST -> first frame ${played.timeToFirstFrameMs?.toFixed(0)} ms`,
    );
    await page.evaluate((i) => window.whepTest.restartThirdParty(i), id);
    await playing(id, 30);
    await page.evaluate(({ i, t }) => window.whepTest.stop(i, t), { i: id, t: TOKEN });
    await waitFor("the session to end", async () => (await metric("camgw_sessions")) === 0);
  });

  it("answers every refusal a player can meet, readable from another origin", async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const sdpHeaders = { "Content-Type": "application/sdp", ...auth };
    const offer = await page.evaluate(() => window.whepTest.offerSdp());

    const noToken = await request(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/sdp" },
      body: offer,
    });
    expect(noToken.status).toBe(401);
    expect(noToken.headers["www-authenticate"]).toBe('Bearer realm="camgw"');
    const badToken = await request(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", Authorization: "Bearer nope" },
      body: offer,
    });
    expect(badToken.status).toBe(401);

    expect(
      (
        await request(`${gateway.httpUrl}whep/other`, {
          method: "POST",
          headers: sdpHeaders,
          body: offer,
        })
      ).status,
    ).toBe(404);
    const json = await request(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...auth },
      body: offer,
    });
    expect(json.status).toBe(415);
    expect(json.headers["accept-post"]).toBe("application/sdp");
    expect(
      (await request(endpoint, { method: "POST", headers: sdpHeaders, body: "v=1" })).status,
    ).toBe(400);
    const vp8 = await page.evaluate(() => window.whepTest.offerSdp("video/VP8"));
    const unsupported = await request(endpoint, { method: "POST", headers: sdpHeaders, body: vp8 });
    expect(unsupported.status).toBe(406);
    expect(unsupported.headers["content-type"]).toBe("application/problem+json");
    expect(
      (
        await request(endpoint, {
          method: "POST",
          headers: sdpHeaders,
          body: offer + "a=x:" + "y".repeat(40_000),
        })
      ).status,
    ).toBe(413);
    // A browser's preflight already stops a PUT; a player outside a browser gets 405.
    const put = await fetch(endpoint, { method: "PUT", headers: sdpHeaders, body: offer });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toContain("POST");
    expect(
      (await request(`${endpoint}/${"A".repeat(32)}`, { method: "DELETE", headers: auth })).status,
    ).toBe(404);

    // Two players fill --max-viewers 2; a third is told to come back later.
    const a = await page.evaluate(({ u, t }) => window.whepTest.own(u, t), {
      u: endpoint,
      t: TOKEN,
    });
    const b = await page.evaluate(({ u, t }) => window.whepTest.thirdParty(u, t), {
      u: endpoint,
      t: TOKEN,
    });
    await playing(a);
    const busy = await request(endpoint, { method: "POST", headers: sdpHeaders, body: offer });
    expect(busy.status).toBe(503);
    expect(busy.headers["retry-after"]).toBe("10");
    const location = (await state(a)).location ?? "";
    const stale = await request(location, {
      method: "PATCH",
      headers: { "Content-Type": "application/trickle-ice-sdpfrag", "If-Match": '"old"', ...auth },
      body: "a=end-of-candidates\r\n",
    });
    expect(stale.status).toBe(412);
    // None of this disturbed the players.
    await playing(a, 30);
    await playing(b, 30);
    await page.evaluate(({ i, t }) => window.whepTest.stop(i, t), { i: a, t: TOKEN });
    await page.evaluate(({ i, t }) => window.whepTest.stop(i, t), { i: b, t: TOKEN });
    await waitFor("both sessions to end", async () => (await metric("camgw_sessions")) === 0);
  });
});
