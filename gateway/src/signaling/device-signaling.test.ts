import mqtt from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedBroker } from "./broker.js";
import { DeviceSignaling } from "./device-signaling.js";
import { MAX_PAYLOAD_BYTES } from "./messages.js";
import { FIXED_ANSWER, FixedAnswerHost, GOOD_OFFER } from "./test/fixed-answer-host.js";
import { RawViewer, waitFor } from "./test/raw-viewer.js";
import { TcpProxy } from "./test/tcp-proxy.js";

const STATUS = {
  name: "Porch",
  version: "0.1.0",
  streams: [{ id: "main", codec: "H264", width: 1280, height: 720, fps: 30 }],
};

let broker: EmbeddedBroker;
let url: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  broker = await EmbeddedBroker.start({ host: "127.0.0.1", port: 0 });
  url = `mqtt://127.0.0.1:${broker.port}`;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await broker.close();
});

async function startDevice(
  host = new FixedAnswerHost(),
  extra: Partial<ConstructorParameters<typeof DeviceSignaling>[0]> = {},
): Promise<{ device: DeviceSignaling; host: FixedAnswerHost }> {
  const device = new DeviceSignaling({ url, deviceId: "porch", status: STATUS, host, ...extra });
  cleanups.push(() => device.close());
  await device.start();
  return { device, host };
}

async function viewer(viewerId: string): Promise<RawViewer> {
  const v = await RawViewer.connect(url, "camgw", "porch", viewerId);
  cleanups.push(() => v.close());
  return v;
}

/** The retained status as a fresh subscriber sees it. */
async function retainedStatus(deviceId = "porch"): Promise<Record<string, unknown>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    const got = new Promise<Record<string, unknown>>((resolve) => {
      client.on("message", (_t, payload) =>
        resolve(JSON.parse(payload.toString()) as Record<string, unknown>),
      );
    });
    await client.subscribeAsync(`camgw/${deviceId}/status`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync(true);
  }
}

describe("DeviceSignaling status", () => {
  it("publishes a retained online status with name, version, streams and ts", async () => {
    const before = Date.now();
    await startDevice();
    const status = await retainedStatus();
    expect(status).toMatchObject({ v: 1, type: "status", online: true, ...STATUS });
    expect(status.ts).toBeGreaterThanOrEqual(before);
  });

  it("publishes the offline status on close, after the host's byes", async () => {
    const { device, host } = await startDevice();
    const v = await viewer("v1");
    await v.send({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await waitFor(() => v.received.some((m) => m.type === "candidate" && m.candidate === null));
    host.close();
    await device.close();
    await device.close();
    expect(v.received.at(-1)).toEqual({ v: 1, type: "bye", session: "s1", reason: "shutdown" });
    expect(await retainedStatus()).toEqual({ v: 1, type: "status", online: false });
  });

  it("lets the broker publish the offline will when the connection drops without a goodbye", async () => {
    const proxy = await TcpProxy.start(broker.port ?? 0);
    cleanups.push(() => proxy.close());
    url = `mqtt://127.0.0.1:${proxy.port}`;
    await startDevice(new FixedAnswerHost(), { backoff: { minMs: 60_000, maxMs: 60_000 } });
    url = `mqtt://127.0.0.1:${broker.port}`;
    const watcher = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    cleanups.push(() => watcher.endAsync(true));
    const statuses: Record<string, unknown>[] = [];
    watcher.on("message", (_t, p) =>
      statuses.push(JSON.parse(p.toString()) as Record<string, unknown>),
    );
    await watcher.subscribeAsync("camgw/porch/status", { qos: 1 });
    await waitFor(() => statuses.length === 1);
    proxy.cut();
    await waitFor(() => statuses.length === 2, 5000, "the will");
    expect(statuses).toEqual([
      expect.objectContaining({ online: true }),
      { v: 1, type: "status", online: false },
    ]);
  });
});

describe("DeviceSignaling offers", () => {
  it("answers an offer on tx/<viewerId> and trickles the host's candidates ending with null", async () => {
    const { host } = await startDevice();
    const v = await viewer("v1");
    expect(await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER })).toEqual({
      v: 1,
      type: "answer",
      session: "s1",
      sdp: FIXED_ANSWER,
    });
    expect(await v.next()).toMatchObject({
      type: "candidate",
      session: "s1",
      candidate: host.localCandidates[0],
    });
    expect(await v.next()).toEqual({ v: 1, type: "candidate", session: "s1", candidate: null });
    expect(host.sessions.get("v1/s1")?.stream).toBe("main");
  });

  it("passes viewer candidates to the host and frees the session on bye", async () => {
    const { host } = await startDevice();
    const v = await viewer("v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    const candidate = { candidate: "candidate:2 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" };
    await v.send({ v: 1, type: "candidate", session: "s1", candidate });
    await v.send({ v: 1, type: "candidate", session: "s1", candidate: null });
    await waitFor(() => host.sessions.get("v1/s1")?.remoteCandidates.length === 2);
    expect(host.sessions.get("v1/s1")?.remoteCandidates).toEqual([candidate, null]);
    await v.send({ v: 1, type: "bye", session: "s1" });
    await waitFor(() => host.sessionCount === 0);
    expect(host.byes).toEqual(["v1/s1"]);
  });

  it("sends bye with the reason when the host ends a session", async () => {
    const { host } = await startDevice();
    const v = await viewer("v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await v.next();
    await v.next();
    host.end("v1", "s1", "ice-failed");
    expect(await v.next()).toEqual({ v: 1, type: "bye", session: "s1", reason: "ice-failed" });
  });
});

describe("DeviceSignaling invalid messages", () => {
  const offerPad = "x".repeat(
    MAX_PAYLOAD_BYTES + 1 - JSON.stringify({ v: 1, type: "offer", session: "s9", sdp: "" }).length,
  );
  const cases: [string, string | object, { session?: string; pattern: RegExp }][] = [
    ["bad JSON", '{"v":1,', { pattern: /not JSON/ }],
    ["JSON that is not an object", "[1,2]", { pattern: /not a JSON object/ }],
    [
      "a payload of 64 KiB + 1",
      { v: 1, type: "offer", session: "s9", sdp: offerPad },
      { pattern: /over/ },
    ],
    [
      "v missing",
      { type: "offer", session: "s9", sdp: "v=0" },
      { session: "s9", pattern: /"v" is missing/ },
    ],
    [
      "v 2",
      { v: 2, type: "offer", session: "s9", sdp: "v=0" },
      { session: "s9", pattern: /number 1/ },
    ],
    ["type missing", { v: 1, session: "s9" }, { session: "s9", pattern: /"type" is missing/ }],
    [
      "type a number",
      { v: 1, type: 7, session: "s9" },
      { session: "s9", pattern: /"type" must be a string/ },
    ],
    [
      "an offer without sdp",
      { v: 1, type: "offer", session: "s9" },
      { session: "s9", pattern: /"sdp"/ },
    ],
    [
      "a bad session id",
      { v: 1, type: "offer", session: "no spaces", sdp: "v=0" },
      { pattern: /"session"/ },
    ],
    [
      "a candidate that is not an object",
      { v: 1, type: "candidate", session: "s9", candidate: "x" },
      { session: "s9", pattern: /object or null/ },
    ],
  ];

  for (const [what, payload, expected] of cases) {
    it(`answers bad-request to ${what} and leaves a live session alone`, async () => {
      const { host } = await startDevice();
      const good = await viewer("good");
      await good.ask({ v: 1, type: "offer", session: "g1", sdp: GOOD_OFFER });
      const bad = await viewer("bad");
      const reply = await bad.ask(payload);
      expect(reply).toEqual({
        v: 1,
        type: "error",
        code: "bad-request",
        message: expect.stringMatching(expected.pattern) as unknown,
        ...(expected.session === undefined ? {} : { session: expected.session }),
      });
      expect([...host.sessions.keys()]).toEqual(["good/g1"]);
      await good.send({ v: 1, type: "candidate", session: "g1", candidate: null });
      await waitFor(() => host.sessions.get("good/g1")?.remoteCandidates.length === 1);
    });
  }

  it("ignores an unknown type silently", async () => {
    const { device } = await startDevice();
    const v = await viewer("v1");
    await v.send({ v: 1, type: "hello", session: "s1" });
    // The next reply belongs to the message sent after it: nothing came for "hello".
    expect(
      await v.ask({ v: 1, type: "candidate", session: "probe", candidate: null }),
    ).toMatchObject({
      code: "not-found",
      session: "probe",
    });
    expect(device.metrics()).toMatchObject({ received: 2, ignored: 1 });
  });

  it("answers not-found to a candidate for a session the viewer does not have", async () => {
    await startDevice();
    const owner = await viewer("owner");
    await owner.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    const other = await viewer("other");
    // Sessions belong to a viewer: another viewer's "s1" is not this one's.
    expect(await other.ask({ v: 1, type: "candidate", session: "s1", candidate: null })).toEqual({
      v: 1,
      type: "error",
      session: "s1",
      code: "not-found",
      message: expect.any(String) as unknown,
    });
  });

  it("replies to an offer before judging the candidates trickled right behind it", async () => {
    await startDevice(new FixedAnswerHost(0));
    const v = await viewer("v1");
    const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" };
    // One burst, as a browser trickles: the broker hands all three over together.
    await Promise.all([
      v.send({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER }),
      v.send({ v: 1, type: "candidate", session: "s1", candidate }),
      v.send({ v: 1, type: "candidate", session: "s1", candidate: null }),
    ]);
    const replies = [await v.next(), await v.next(), await v.next()];
    expect(replies.map((r) => [r.type, r.code])).toEqual([
      ["error", "busy"],
      ["error", "not-found"],
      ["error", "not-found"],
    ]);
  });

  it("gives a negotiating session the candidates that arrive while its offer is answered", async () => {
    const { host } = await startDevice(new FixedAnswerHost());
    host.answerDelayMs = 200;
    const v = await viewer("v1");
    const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" };
    await Promise.all([
      v.send({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER }),
      v.send({ v: 1, type: "candidate", session: "s1", candidate }),
    ]);
    expect(await v.next()).toMatchObject({ type: "answer", session: "s1" });
    await waitFor(() => host.sessions.get("v1/s1")?.remoteCandidates.length === 1);
  });

  it("ignores a bye for an unknown session", async () => {
    const { host } = await startDevice();
    const v = await viewer("v1");
    await v.send({ v: 1, type: "bye", session: "nope" });
    expect(
      await v.ask({ v: 1, type: "candidate", session: "probe", candidate: null }),
    ).toMatchObject({ code: "not-found" });
    expect(host.byes).toEqual([]);
  });

  it("answers the host's error codes: bad-request, unsupported, busy, internal", async () => {
    const host = new FixedAnswerHost(1);
    await startDevice(host);
    const v = await viewer("v1");
    expect(await v.ask({ v: 1, type: "offer", session: "a", sdp: "garbage" })).toMatchObject({
      code: "bad-request",
      session: "a",
    });
    expect(
      await v.ask({ v: 1, type: "offer", session: "b", sdp: "v=0\r\nm=audio 9 RTP/AVP 0\r\n" }),
    ).toMatchObject({
      code: "unsupported",
      session: "b",
    });
    expect(
      await v.ask({ v: 1, type: "offer", session: "c", sdp: GOOD_OFFER, stream: "sub" }),
    ).toMatchObject({ code: "unsupported" });
    expect(await v.ask({ v: 1, type: "offer", session: "d", sdp: GOOD_OFFER })).toMatchObject({
      type: "answer",
    });
    await v.next();
    await v.next();
    expect(await v.ask({ v: 1, type: "offer", session: "e", sdp: GOOD_OFFER })).toMatchObject({
      code: "busy",
      session: "e",
      message: "1 viewers already",
    });
    // A replacing offer for a live session does not count twice.
    expect(await v.ask({ v: 1, type: "offer", session: "d", sdp: GOOD_OFFER })).toMatchObject({
      type: "answer",
    });
    host.crashOnOffer = true;
    await v.next();
    await v.next();
    expect(await v.ask({ v: 1, type: "offer", session: "f", sdp: GOOD_OFFER })).toEqual({
      v: 1,
      type: "error",
      session: "f",
      code: "internal",
      message: "internal error",
    });
  });

  it("survives a flood of offers from one viewer: busy or dropped past the limit, others still served", async () => {
    const { device, host } = await startDevice(new FixedAnswerHost(1000));
    const flooder = await viewer("flood");
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 200; i++)
      sends.push(flooder.send({ v: 1, type: "offer", session: `f${i}`, sdp: GOOD_OFFER }));
    await Promise.all(sends);
    const calm = await viewer("calm");
    expect(await calm.ask({ v: 1, type: "offer", session: "c1", sdp: GOOD_OFFER })).toMatchObject({
      type: "answer",
    });
    await waitFor(() => device.metrics().received === 201);
    const m = device.metrics();
    // The default offer bucket holds 8; a second or two of refill may add a few.
    expect(host.offerCalls).toBeLessThan(20);
    // Each flood offer was taken (calm's one aside), refused by the rate
    // limit, or dropped unread behind the queued ones.
    expect(m.rateLimited + m.overflowed).toBe(200 - (host.offerCalls - 1));
    expect((m.replies.busy ?? 0) + m.dropped).toBe(m.rateLimited);
    expect(m.replies.busy).toBeGreaterThan(0);
    expect(m.dropped).toBeGreaterThan(0);
    expect(device.connected).toBe(true);
  });

  it("counts invalid messages by the step that refused them", async () => {
    const { device } = await startDevice();
    const v = await viewer("v1");
    await v.ask("nope");
    await v.ask({ v: 3, type: "bye", session: "s" });
    await v.ask({ v: 1, type: "bye" });
    expect(device.metrics()).toMatchObject({
      received: 3,
      invalid: { payload: 1, header: 1, fields: 1 },
      replies: { "bad-request": 3 },
    });
  });
});

describe("DeviceSignaling connection", () => {
  it("reconnects after the broker restarts, re-publishes its status and keeps its sessions", async () => {
    const { device, host } = await startDevice(new FixedAnswerHost(), {
      backoff: { minMs: 50, maxMs: 200 },
    });
    const v = await viewer("v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await v.close();
    const port = broker.port ?? 0;
    await broker.close();
    await waitFor(() => !device.connected);
    broker = await EmbeddedBroker.start({ host: "127.0.0.1", port });
    await waitFor(() => device.connected, 10_000, "reconnect");
    // The new broker knows nothing: the retained status is the device's re-publish.
    expect(await retainedStatus()).toMatchObject({ online: true, name: "Porch" });
    expect(host.sessions.has("v1/s1")).toBe(true);
    const again = await viewer("v1");
    // rx/+ was subscribed again: the old session still takes candidates.
    await again.send({ v: 1, type: "candidate", session: "s1", candidate: null });
    await waitFor(() => host.sessions.get("v1/s1")?.remoteCandidates.length === 1);
    expect(device.metrics().connects).toBe(2);
  });

  it("rejects start() with a clear error when nothing listens", async () => {
    const device = new DeviceSignaling({
      url: "mqtt://127.0.0.1:1",
      deviceId: "porch",
      status: STATUS,
      host: new FixedAnswerHost(),
      connectTimeoutMs: 500,
    });
    await expect(device.start()).rejects.toThrow(
      /no connection to MQTT broker mqtt:\/\/127.0.0.1:1 within 500 ms/,
    );
  });

  it("refuses a bad device id or prefix at construction", () => {
    const host = new FixedAnswerHost();
    expect(() => new DeviceSignaling({ url, deviceId: "a/b", status: STATUS, host })).toThrow(
      /device id/,
    );
    expect(
      () => new DeviceSignaling({ url, deviceId: "a", prefix: "x/#", status: STATUS, host }),
    ).toThrow(/prefix/);
  });
});
