/**
 * The signaling protocol on the device side (signaling-v1 "Messages" and
 * "Session rules"), run on the dispatcher through the in-memory transport:
 * no broker. The MQTT link's own tests (mqtt-link.test.ts) carry the same
 * messages over real brokers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SignalingError } from "../errors.js";
import { MAX_QUEUED_PER_VIEWER, SignalingDispatcher } from "./dispatcher.js";
import { MAX_PAYLOAD_BYTES } from "./messages.js";
import { FIXED_ANSWER, FixedAnswerHost, GOOD_OFFER } from "./testing/fixed-answer-host.js";
import { MemoryViewer } from "./testing/memory-viewer.js";
import { waitFor } from "./testing/wait-for.js";

const dispatchers: SignalingDispatcher[] = [];

afterEach(() => {
  for (const d of dispatchers.splice(0)) d.close();
});

function device(
  host = new FixedAnswerHost(),
  options: Omit<ConstructorParameters<typeof SignalingDispatcher>[0], "host"> = {},
): { dispatcher: SignalingDispatcher; host: FixedAnswerHost; errors: Error[] } {
  const dispatcher = new SignalingDispatcher({ host, ...options });
  const errors: Error[] = [];
  dispatcher.on("error", (err) => errors.push(err));
  dispatchers.push(dispatcher);
  return { dispatcher, host, errors };
}

describe("SignalingDispatcher offers", () => {
  it("answers an offer and trickles the host's candidates ending with null", async () => {
    const { dispatcher, host } = device();
    const v = new MemoryViewer(dispatcher, "v1");
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
    const { dispatcher, host } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    const candidate = { candidate: "candidate:2 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" };
    v.send({ v: 1, type: "candidate", session: "s1", candidate });
    v.send({ v: 1, type: "candidate", session: "s1", candidate: null });
    await waitFor(() => host.sessions.get("v1/s1")?.remoteCandidates.length === 2);
    expect(host.sessions.get("v1/s1")?.remoteCandidates).toEqual([candidate, null]);
    v.send({ v: 1, type: "bye", session: "s1" });
    await waitFor(() => host.sessionCount === 0);
    expect(host.byes).toEqual(["v1/s1"]);
  });

  it("sends bye with the reason when the host ends a session", async () => {
    const { dispatcher, host } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await v.next();
    await v.next();
    host.end("v1", "s1", "ice-failed");
    expect(await v.next()).toEqual({ v: 1, type: "bye", session: "s1", reason: "ice-failed" });
  });

  it("tells a session's viewer when the host says its camera changed state", async () => {
    const { dispatcher, host } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await v.next();
    await v.next();
    host.emit("source", "v1", "s1", { stream: "main", state: "unavailable", reason: "unplugged" });
    expect(await v.next()).toEqual({
      v: 1,
      type: "source",
      session: "s1",
      stream: "main",
      state: "unavailable",
      reason: "unplugged",
    });
    // Nothing for a viewer the dispatcher does not know: dropped and counted.
    host.emit("source", "nobody", "s9", { stream: "main", state: "live" });
    expect(dispatcher.metrics().dropped).toBe(1);
  });

  it("sends a session's candidates and bye back the way its viewer came, whatever the transport", async () => {
    const { dispatcher, host } = device();
    // Two transports on one dispatcher (MQTT and, one day, WHEP), one viewer each.
    const overMqtt = new MemoryViewer(dispatcher, "m1");
    const overWhep = new MemoryViewer(dispatcher, "w1", { account: "alice" });
    await overMqtt.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await overWhep.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await waitFor(() => overMqtt.received.length === 3 && overWhep.received.length === 3);
    host.end("w1", "s1", "kicked");
    host.end("m1", "s1", "timeout");
    await waitFor(() => overMqtt.received.length === 4 && overWhep.received.length === 4);
    // Each viewer got its own answer, candidates and bye, and nothing of the other's.
    for (const [v, reason] of [
      [overMqtt, "timeout"],
      [overWhep, "kicked"],
    ] as const) {
      expect(v.received.map((m) => m.type)).toEqual(["answer", "candidate", "candidate", "bye"]);
      expect(v.received.at(-1)).toEqual({ v: 1, type: "bye", session: "s1", reason });
    }
    expect([...host.sessions.keys()]).toEqual([]);
  });

  it("follows a viewer that comes back through another transport", async () => {
    const { dispatcher, host } = device();
    const first = new MemoryViewer(dispatcher, "v1");
    await first.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await waitFor(() => first.received.length === 3);
    // Same viewer id, a new way back (a reconnected client, another transport).
    const second = new MemoryViewer(dispatcher, "v1");
    second.send({ v: 1, type: "candidate", session: "s1", candidate: null });
    await waitFor(() => host.sessions.get("v1/s1")?.remoteCandidates.length === 1);
    host.end("v1", "s1", "ice-failed");
    expect(await second.next()).toMatchObject({ type: "bye", reason: "ice-failed" });
    expect(first.received).toHaveLength(3);
  });
});

describe("SignalingDispatcher invalid messages", () => {
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
      const { dispatcher, host } = device();
      const good = new MemoryViewer(dispatcher, "good");
      await good.ask({ v: 1, type: "offer", session: "g1", sdp: GOOD_OFFER });
      const bad = new MemoryViewer(dispatcher, "bad");
      const reply = await bad.ask(payload);
      expect(reply).toEqual({
        v: 1,
        type: "error",
        code: "bad-request",
        message: expect.stringMatching(expected.pattern) as unknown,
        ...(expected.session === undefined ? {} : { session: expected.session }),
      });
      expect([...host.sessions.keys()]).toEqual(["good/g1"]);
      good.send({ v: 1, type: "candidate", session: "g1", candidate: null });
      await waitFor(() => host.sessions.get("good/g1")?.remoteCandidates.length === 1);
    });
  }

  it("ignores an unknown type silently", async () => {
    const { dispatcher } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    v.send({ v: 1, type: "hello", session: "s1" });
    // The next reply belongs to the message sent after it: nothing came for "hello".
    expect(
      await v.ask({ v: 1, type: "candidate", session: "probe", candidate: null }),
    ).toMatchObject({
      code: "not-found",
      session: "probe",
    });
    expect(dispatcher.metrics()).toMatchObject({ received: 2, ignored: 1 });
  });

  it("answers not-found to a candidate for a session the viewer does not have", async () => {
    const { dispatcher } = device();
    const owner = new MemoryViewer(dispatcher, "owner");
    await owner.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    const other = new MemoryViewer(dispatcher, "other");
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
    const { dispatcher } = device(new FixedAnswerHost(0));
    const v = new MemoryViewer(dispatcher, "v1");
    const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" };
    // One tick, as a transport hands over a browser's burst.
    v.send({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    v.send({ v: 1, type: "candidate", session: "s1", candidate });
    v.send({ v: 1, type: "candidate", session: "s1", candidate: null });
    const replies = [await v.next(), await v.next(), await v.next()];
    expect(replies.map((r) => [r.type, r.code])).toEqual([
      ["error", "busy"],
      ["error", "not-found"],
      ["error", "not-found"],
    ]);
  });

  it("gives a negotiating session the candidates that arrive while its offer is answered", async () => {
    const { dispatcher, host } = device();
    host.answerDelayMs = 200;
    const v = new MemoryViewer(dispatcher, "v1");
    const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" };
    v.send({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    v.send({ v: 1, type: "candidate", session: "s1", candidate });
    expect(await v.next()).toMatchObject({ type: "answer", session: "s1" });
    await waitFor(() => host.sessions.get("v1/s1")?.remoteCandidates.length === 1);
  });

  it("ignores a bye for an unknown session", async () => {
    const { dispatcher, host } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    v.send({ v: 1, type: "bye", session: "nope" });
    expect(
      await v.ask({ v: 1, type: "candidate", session: "probe", candidate: null }),
    ).toMatchObject({ code: "not-found" });
    expect(host.byes).toEqual([]);
  });

  it("answers the host's error codes: bad-request, unsupported, busy, internal", async () => {
    const { dispatcher, host, errors } = device(new FixedAnswerHost(1));
    const v = new MemoryViewer(dispatcher, "v1");
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
    // The viewer learns nothing of the bug; the log gets it, as a SignalingError internal.
    expect(errors).toEqual([expect.any(SignalingError)]);
    expect(errors[0]).toMatchObject({ code: "internal", message: /boom/ });
    expect(dispatcher.metrics()).toMatchObject({
      answers: 2,
      hostErrors: 1,
      errorReplies: { "bad-request": 1, unsupported: 2, busy: 1, internal: 1 },
    });
  });

  it("counts a host that throws on bye, tells the log, and keeps the viewer's queue going", async () => {
    const { dispatcher, host, errors } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    // The host's trickle (a candidate, then null) comes first.
    expect((await v.next()).type).toBe("candidate");
    expect(await v.next()).toMatchObject({ type: "candidate", candidate: null });
    host.bye = () => {
      throw new Error("bye exploded");
    };
    v.send({ v: 1, type: "bye", session: "s1" });
    // The bye gets no reply (spec); the next message is still handled.
    expect(await v.ask({ v: 1, type: "candidate", session: "zz", candidate: null })).toMatchObject({
      code: "not-found",
      session: "zz",
    });
    expect(dispatcher.metrics().hostErrors).toBe(1);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/bye exploded/)]);
  });

  it("drops and counts a reply the transport cannot send, and reports the transport's error", async () => {
    const { dispatcher, errors } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    v.failSends = true;
    v.send("nope");
    await waitFor(() => dispatcher.metrics().dropped === 1);
    expect(v.received).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(["memory: v1 is gone"]);
  });

  it("survives a flood of offers from one viewer: busy or dropped past the limit, others still served", async () => {
    const { dispatcher, host } = device(new FixedAnswerHost(1000));
    const flooder = new MemoryViewer(dispatcher, "flood");
    // Delivered in one tick: the queue takes 64, the rest overflow unread.
    for (let i = 0; i < 200; i++)
      flooder.send({ v: 1, type: "offer", session: `f${i}`, sdp: GOOD_OFFER });
    const calm = new MemoryViewer(dispatcher, "calm");
    expect(await calm.ask({ v: 1, type: "offer", session: "c1", sdp: GOOD_OFFER })).toMatchObject({
      type: "answer",
    });
    await waitFor(() => host.offerCalls + dispatcher.metrics().rateLimited === 1 + 64);
    const m = dispatcher.metrics();
    expect(m.received).toBe(201);
    expect(m.overflowed).toBe(200 - MAX_QUEUED_PER_VIEWER);
    // The default offer bucket holds 8; a second or two of refill may add a few.
    expect(host.offerCalls).toBeLessThan(20);
    expect(m.rateLimited).toBe(MAX_QUEUED_PER_VIEWER - (host.offerCalls - 1));
    // The error-reply bucket (20) answers the first refusals; the rest are dropped.
    expect((m.errorReplies.busy ?? 0) + m.dropped).toBe(m.rateLimited);
    expect(m.errorReplies.busy).toBeGreaterThan(0);
    expect(m.dropped).toBeGreaterThan(0);
  });

  it("counts invalid messages by the step that refused them", async () => {
    const { dispatcher } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    await v.ask("nope");
    await v.ask({ v: 3, type: "bye", session: "s" });
    await v.ask({ v: 1, type: "bye" });
    expect(dispatcher.metrics()).toMatchObject({
      received: 3,
      invalid: { payload: 1, header: 1, fields: 1 },
      errorReplies: { "bad-request": 3 },
    });
  });

  it("answers nothing and lets go of the host once closed", async () => {
    const { dispatcher, host } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await waitFor(() => v.received.length === 3);
    dispatcher.close();
    dispatcher.close();
    expect(host.listenerCount("candidate") + host.listenerCount("ended")).toBe(0);
    host.end("v1", "s1", "shutdown");
    v.send({ v: 1, type: "offer", session: "s2", sdp: GOOD_OFFER });
    await new Promise((resolve) => setImmediate(resolve));
    expect(v.received).toHaveLength(3);
    expect(dispatcher.metrics().received).toBe(1);
  });
});

describe("SignalingDispatcher ICE servers and restarts", () => {
  it("answers an ice-servers request with the host's servers for that viewer", async () => {
    const { dispatcher, host } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    expect(await v.ask({ v: 1, type: "ice-servers" })).toEqual({
      v: 1,
      type: "ice-servers",
      iceServers: [
        { urls: ["stun:127.0.0.1:3478"] },
        { urls: ["turn:127.0.0.1:3478"], username: "9999999999:v1", credential: "c" },
      ],
      ttl: 600,
    });
    expect(host.iceServerCalls).toEqual(["v1"]);
    expect(dispatcher.metrics().iceServersSent).toBe(1);
  });

  it("sends the servers before the answer when a viewer asks right before its offer", async () => {
    const { dispatcher } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    v.send({ v: 1, type: "ice-servers" });
    v.send({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    expect((await v.next()).type).toBe("ice-servers");
    expect((await v.next()).type).toBe("answer");
  });

  it("answers an empty list when the host has no ICE servers to give", async () => {
    const host = new FixedAnswerHost();
    Object.assign(host, { iceServersFor: undefined });
    const { dispatcher } = device(host);
    const v = new MemoryViewer(dispatcher, "v1");
    expect(await v.ask({ v: 1, type: "ice-servers" })).toEqual({
      v: 1,
      type: "ice-servers",
      iceServers: [],
    });
  });

  it("drops and counts ice-servers requests over the per-viewer budget", async () => {
    const { dispatcher, host } = device(undefined, {
      iceServersRate: { burst: 2, perSecond: 0.001 },
    });
    const v = new MemoryViewer(dispatcher, "v1");
    for (let i = 0; i < 5; i++) v.send({ v: 1, type: "ice-servers" });
    await waitFor(() => dispatcher.metrics().dropped === 3);
    expect(v.received.length).toBe(2);
    expect(host.iceServerCalls.length).toBe(2);
    // Another viewer is not held to the first one's budget.
    const w = new MemoryViewer(dispatcher, "v2");
    expect((await w.ask({ v: 1, type: "ice-servers" })).type).toBe("ice-servers");
  });

  it("asks the viewer to restart ICE when the host says its path broke", async () => {
    const { dispatcher, host } = device();
    const v = new MemoryViewer(dispatcher, "v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await v.next();
    await v.next();
    host.askRestart("v1", "s1", "address-changed");
    expect(await v.next()).toEqual({
      v: 1,
      type: "ice-restart",
      session: "s1",
      reason: "address-changed",
    });
    expect(dispatcher.metrics().iceRestartsSent).toBe(1);
  });
});
