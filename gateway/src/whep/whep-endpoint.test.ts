import wrtc from "@roamhq/wrtc";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectViewer, LOOPBACK, nextFrame, waitFor } from "../webrtc/testing/harness.js";
import { HeadlessViewer } from "../webrtc/receive/headless-viewer.js";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";
import { parseSdpFrag } from "./sdp-frag.js";
import { startWhepStack, TOKEN, type WhepStack } from "./testing/whep-stack.js";

let clip: ClipAccessUnit[];
let stack: WhepStack | undefined;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 30, gop: 30 });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await stack?.close();
  stack = undefined;
});

const auth = { Authorization: `Bearer ${TOKEN}` };

async function start(options: Parameters<typeof startWhepStack>[1] = {}): Promise<WhepStack> {
  stack = await startWhepStack(clip, options);
  return stack;
}

function viewer(): HeadlessViewer {
  const v = new HeadlessViewer({ ice: LOOPBACK });
  closers.push(() => v.close());
  return v;
}

/** A werift player's offer with its candidates taken out (to send by PATCH). */
async function offerWithoutCandidates(
  v: HeadlessViewer,
): Promise<{ sdp: string; lines: string[] }> {
  const sdp = await v.createOffer();
  const lines = sdp.split("\r\n").filter((l) => l.startsWith("a=candidate:"));
  const stripped = sdp
    .split("\r\n")
    .filter((l) => !l.startsWith("a=candidate:") && l !== "a=end-of-candidates")
    .join("\r\n");
  return { sdp: stripped, lines };
}

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/whep/main`, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/sdp", ...auth, ...headers },
  });
}

function patch(location: string, body: string, headers: Record<string, string> = {}) {
  return fetch(location, {
    method: "PATCH",
    body,
    headers: { "Content-Type": "application/trickle-ice-sdpfrag", ...auth, ...headers },
  });
}

function mid(sdp: string): string {
  return /^a=mid:(\S+)/m.exec(sdp)?.[1] ?? "0";
}

describe("WHEP endpoint", () => {
  it("plays: 201 with the answer and all our candidates, trickle by PATCH, DELETE frees the session at once", async () => {
    const s = await start();
    const v = viewer();
    const offer = await offerWithoutCandidates(v);
    const res = await post(s.url, offer.sdp);
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/sdp");
    expect(res.headers.get("accept-patch")).toBe("application/trickle-ice-sdpfrag");
    const etag = res.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const location = new URL(res.headers.get("location") ?? "", s.url).href;
    expect(location).toMatch(/\/whep\/main\/[A-Za-z0-9_-]{32}$/);
    const answer = await res.text();
    expect(answer).toMatch(/^a=candidate:.* 127\.0\.0\.1 \d+ typ host/m);
    expect(answer).toContain("a=end-of-candidates");
    expect(answer).toMatch(/^a=sendonly/m);

    const received = s.dispatcher.counters.received;
    const frag = [
      `a=ice-ufrag:${/a=ice-ufrag:(\S+)/.exec(offer.sdp)?.[1]}`,
      `a=ice-pwd:${/a=ice-pwd:(\S+)/.exec(offer.sdp)?.[1]}`,
      "m=video 9 UDP/TLS/RTP/SAVPF 0",
      `a=mid:${mid(offer.sdp)}`,
      ...offer.lines,
      "a=end-of-candidates",
      "",
    ].join("\r\n");
    const trickled = await patch(location, frag, { "If-Match": etag });
    expect(trickled.status).toBe(204);
    expect(trickled.headers.get("etag")).toBeNull();
    await v.acceptAnswer(answer);
    expect((await nextFrame(v)).keyframe).toBe(true);
    // Every candidate and the end-of-candidates reached the session host, none refused.
    expect(s.dispatcher.counters.received - received).toBe(offer.lines.length + 1);
    expect(s.dispatcher.metrics().errorReplies).toEqual({});
    expect(s.manager.stats.sessionsByTransport).toEqual({ whep: 1 });

    const asked = performance.now();
    const deleted = await fetch(location, { method: "DELETE", headers: auth });
    const tookMs = performance.now() - asked;
    expect(deleted.status).toBe(200);
    expect(s.manager.sessionCount).toBe(0);
    expect(s.endpoint.sessionCount).toBe(0);
    console.log(`WHEP DELETE answered with the session freed after ${tookMs.toFixed(1)} ms`);
    expect((await patch(location, frag)).status).toBe(404);
    expect((await fetch(location, { method: "DELETE", headers: auth })).status).toBe(404);
  });

  it("restarts ICE on PATCH with new credentials: 200, our new credentials, a new ETag; media goes on", async () => {
    const s = await start();
    const v = viewer();
    const res = await post(s.url, await v.createOffer());
    expect(res.status).toBe(201);
    const etag = res.headers.get("etag") ?? "";
    const location = new URL(res.headers.get("location") ?? "", s.url).href;
    const answer = await res.text();
    await v.acceptAnswer(answer);
    await nextFrame(v);

    const restart = await v.restartIce();
    const frag = [
      `a=ice-ufrag:${/a=ice-ufrag:(\S+)/.exec(restart)?.[1]}`,
      `a=ice-pwd:${/a=ice-pwd:(\S+)/.exec(restart)?.[1]}`,
      "m=video 9 UDP/TLS/RTP/SAVPF 0",
      `a=mid:${mid(restart)}`,
      ...restart.split("\r\n").filter((l) => l.startsWith("a=candidate:")),
      "",
    ].join("\r\n");
    const restarted = await patch(location, frag, { "If-Match": "*" });
    expect(restarted.status).toBe(200);
    expect(restarted.headers.get("content-type")).toBe("application/trickle-ice-sdpfrag");
    const newEtag = restarted.headers.get("etag") ?? "";
    expect(newEtag).not.toBe(etag);
    const ours = parseSdpFrag(await restarted.text());
    expect(ours.ufrag).not.toBe(/a=ice-ufrag:(\S+)/.exec(answer)?.[1]);
    expect(ours.candidates.length).toBeGreaterThan(0);
    expect(ours.endOfCandidates).toBe(true);

    // The player applies it as whip-whep does: the first answer with the new
    // credentials and candidates.
    const before = v.stats.frames;
    const updated = answer
      .replace(/a=ice-ufrag:\S+/g, `a=ice-ufrag:${ours.ufrag}`)
      .replace(/a=ice-pwd:\S+/g, `a=ice-pwd:${ours.pwd}`)
      .split("\r\n")
      .filter((l) => !l.startsWith("a=candidate:"))
      .flatMap((l) =>
        l.startsWith("a=mid:") ? [l, ...ours.candidates.map((c) => `a=${c.candidate}`)] : [l],
      )
      .join("\r\n");
    await v.acceptAnswer(updated);
    await waitFor(() => v.stats.frames > before + 30, 15_000);
    expect(s.manager.stats.iceRestarts).toBe(1);
    expect(s.manager.stats.sessionsCreated).toBe(1);

    // A trickle for the old ICE session is refused; the new ETag is taken.
    expect((await patch(location, "a=end-of-candidates\r\n", { "If-Match": etag })).status).toBe(
      412,
    );
    expect((await patch(location, "a=end-of-candidates\r\n", { "If-Match": newEtag })).status).toBe(
      204,
    );
  });

  it("ends a session whose player vanished by the liveness rule, and forgets its URL", async () => {
    const s = await start({ manager: { livenessTimeoutMs: 1500 } });
    const v = new HeadlessViewer({ ice: LOOPBACK });
    const res = await post(s.url, await v.createOffer());
    const location = new URL(res.headers.get("location") ?? "", s.url).href;
    await v.acceptAnswer(await res.text());
    await nextFrame(v);
    await v.vanish();
    await waitFor(() => s.manager.sessionCount === 0, 10_000);
    expect(s.manager.stats.sessionsEnded.timeout).toBe(1);
    expect(s.endpoint.sessionCount).toBe(0);
    expect((await fetch(location, { method: "DELETE", headers: auth })).status).toBe(404);
  });
});

describe("WHEP endpoint refusals", () => {
  it("401 without a token or with a wrong one, with a Bearer challenge; nothing reaches signaling", async () => {
    const s = await start();
    const sdp = await viewer().createOffer();
    const none = await fetch(`${s.url}/whep/main`, {
      method: "POST",
      body: sdp,
      headers: { "Content-Type": "application/sdp" },
    });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="camgw"');
    const wrong = await post(s.url, sdp, { Authorization: "Bearer not-the-token" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const basic = await post(s.url, sdp, { Authorization: "Basic dXNlcjpwYXNz" });
    expect(basic.status).toBe(401);
    expect(s.dispatcher.counters.received).toBe(0);
  });

  it("takes the token as an access_token query parameter, for players that send no header (go2rtc)", async () => {
    const s = await start();
    const v = viewer();
    const res = await fetch(`${s.url}/whep/main?access_token=${TOKEN}`, {
      method: "POST",
      body: await v.createOffer(),
      headers: { "Content-Type": "application/sdp" },
    });
    expect(res.status).toBe(201);
    await v.acceptAnswer(await res.text());
    expect((await nextFrame(v)).keyframe).toBe(true);
    const wrong = await fetch(`${s.url}/whep/main?access_token=nope`, {
      method: "POST",
      body: "v=0",
      headers: { "Content-Type": "application/sdp" },
    });
    expect(wrong.status).toBe(401);
  });

  it("refuses everything while no whep-token is configured", async () => {
    const { sharedTokenAuthorizer } = await import("./whep-auth.js");
    const s = await start({ endpoint: { authorizer: sharedTokenAuthorizer("") } });
    const res = await post(s.url, await viewer().createOffer(), { Authorization: "Bearer " });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { title: string }).title).toMatch(/no whep-token/);
    const empty = await post(s.url, "v=0", { Authorization: "Bearer x" });
    expect(empty.status).toBe(401);
  });

  it("404 for an unknown stream or session, 405 for other methods", async () => {
    const s = await start();
    const sdp = await viewer().createOffer();
    const res = await fetch(`${s.url}/whep/side`, {
      method: "POST",
      body: sdp,
      headers: { "Content-Type": "application/sdp", ...auth },
    });
    expect(res.status).toBe(404);
    expect(
      (await patch(`${s.url}/whep/main/${"A".repeat(32)}`, "a=end-of-candidates\r\n")).status,
    ).toBe(404);
    expect((await fetch(`${s.url}/whep/main/x/y`, { headers: auth })).status).toBe(404);
    const put = await fetch(`${s.url}/whep/main`, { method: "PUT", body: sdp, headers: auth });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toContain("POST");
    const head = await fetch(`${s.url}/whep/main`, { method: "HEAD", headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("application/sdp");
  });

  it("415 for a body that is not SDP, 400 for SDP that does not parse, 413 for a huge one", async () => {
    const s = await start();
    const sdp = await viewer().createOffer();
    const json = await post(s.url, sdp, { "Content-Type": "application/json" });
    expect(json.status).toBe(415);
    expect(json.headers.get("accept-post")).toBe("application/sdp");
    expect((await post(s.url, "hello")).status).toBe(400);
    expect((await post(s.url, sdp.replace(/^m=video .*$/m, "m=video"))).status).toBe(400);
    expect((await post(s.url, `${sdp}a=x:${"y".repeat(40_000)}\r\n`)).status).toBe(413);
    expect(s.manager.sessionCount).toBe(0);
  });

  it("406 for an offer without H.264 it can receive, as a problem, not a counter-offer", async () => {
    const s = await start();
    // libwebrtc through @roamhq/wrtc: a real player whose build has no H.264.
    const pc = new wrtc.RTCPeerConnection();
    closers.push(() => {
      pc.close();
      return Promise.resolve();
    });
    pc.addTransceiver("video", { direction: "recvonly" });
    const offer = await pc.createOffer();
    const res = await post(s.url, offer.sdp ?? "");
    expect(res.status).toBe(406);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("503 with Retry-After at the viewer limit, which MQTT and WHEP viewers share", async () => {
    const s = await start({ manager: { maxViewers: 1 } });
    const mqttLike = await connectViewer(s.manager, "mqtt-viewer", "s1");
    closers.push(() => mqttLike.viewer.close());
    const res = await post(s.url, await viewer().createOffer());
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("10");
    expect(s.manager.sessionCount).toBe(1);
    expect((await nextFrame(mqttLike.viewer)).data.length).toBeGreaterThan(0);
  });

  it("PATCH: 415 for another type, 400 for a broken fragment, 412 for a stale ETag; the session lives on", async () => {
    const s = await start();
    const v = viewer();
    const res = await post(s.url, await v.createOffer());
    const location = new URL(res.headers.get("location") ?? "", s.url).href;
    await v.acceptAnswer(await res.text());
    expect(
      (await patch(location, "a=end-of-candidates\r\n", { "Content-Type": "application/sdp" }))
        .status,
    ).toBe(415);
    expect((await patch(location, "not a fragment")).status).toBe(400);
    expect((await patch(location, "a=candidate:1 1 udp\r\n")).status).toBe(400);
    expect(
      (await patch(location, "a=end-of-candidates\r\n", { "If-Match": '"stale"' })).status,
    ).toBe(412);
    expect((await patch(location, "a=ice-ufrag:abcd\r\n")).status).toBe(400);
    await nextFrame(v);
    expect(s.manager.sessionCount).toBe(1);
  });

  it("429 past the POST rate for one account", async () => {
    const s = await start({ endpoint: { postRate: { burst: 2, perSecond: 0.01 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(s.url, "v=0")).status);
    expect(statuses).toEqual([400, 400, 429]);
  });

  it("CORS: answers an allowed origin's preflight and exposes Location, ETag, Link; refuses others", async () => {
    const s = await start({ endpoint: { corsOrigins: ["https://player.example"] } });
    const preflight = await fetch(`${s.url}/whep/main`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://player.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://player.example");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("Authorization");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    const refused = await fetch(`${s.url}/whep/main`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    const plain = await fetch(`${s.url}/whep/main`, { method: "OPTIONS" });
    expect(plain.status).toBe(204);
    expect(plain.headers.get("accept-post")).toBe("application/sdp");

    const v = viewer();
    const res = await post(s.url, await v.createOffer(), { Origin: "https://player.example" });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://player.example");
    expect(res.headers.get("access-control-expose-headers")).toMatch(/Location.*ETag.*Link/);
    const evil = await post(s.url, await viewer().createOffer(), {
      Origin: "https://evil.example",
    });
    expect(evil.status).toBe(403);
  });

  it("gives players the ICE servers as Link headers, TURN credentials included", async () => {
    const s = await start({
      endpoint: {
        iceServers: () => [
          { urls: "stun:stun.example.net:3478" },
          { urls: "turn:turn.example.net:3478?transport=udp", username: "u1", credential: 'p"w' },
        ],
      },
    });
    const res = await post(s.url, await viewer().createOffer());
    expect(res.status).toBe(201);
    const link = res.headers.get("link") ?? "";
    expect(link).toContain('<stun:stun.example.net:3478>; rel="ice-server"');
    expect(link).toContain(
      '<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="u1"; credential="p\\"w"; credential-type="password"',
    );
  });
});
