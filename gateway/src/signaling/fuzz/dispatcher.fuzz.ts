/**
 * Fuzz target "signaling-dispatcher": bursts of messages (valid, nearly
 * valid, junk) from a few viewers, and sessions the device ends itself,
 * through a SignalingDispatcher on the signaling tests' FixedAnswerHost.
 * Property: every viewer receives exactly the replies signaling-v1 owes it,
 * in order: steps 1-4 from spec-model.ts, steps 5-6 and the session rules
 * from a model of the host's sessions; trickled candidates follow their
 * answer, and a device-ended session gets its bye with the reason.
 *
 * The rate limits are set out of reach: they depend on the clock, and
 * dispatcher.test.ts tests them.
 */
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { messagesWaitingTurn, SignalingDispatcher } from "../dispatcher.js";
import { BYE_REASONS, type ByeReason } from "../messages.js";
import { FIXED_ANSWER, FixedAnswerHost, GOOD_OFFER } from "../testing/fixed-answer-host.js";
import { MemoryViewer } from "../testing/memory-viewer.js";
import { defineTarget, expectThat, jsonCodec } from "../../fuzz/fuzz-target.js";
import { mutatedText } from "../../fuzz/mutate.js";
import { expectedOutcome } from "./spec-model.js";

type Action =
  | { kind: "send"; viewer: number; payloads: string[] }
  | { kind: "end"; viewer: number; session: string; reason: ByeReason };

const VIEWERS = ["v0", "v1", "v2"];
const SESSIONS = ["s1", "s2", "s3"];
const MAX_VIEWERS = 2;
const NO_LIMIT = { burst: 1e9, perSecond: 1e9 };

const session = fc.constantFrom(...SESSIONS);
const sdp = fc.constantFrom(GOOD_OFFER, "v=0\r\n", "x", GOOD_OFFER.replace("H264", "VP8"));
const stream = fc.constantFrom(undefined, "main", "side");

/** Messages that mostly pass steps 1-4, so steps 5-6 and the session rules get exercised. */
const wellFormed: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(session, sdp, stream)
    .map(([s, body, st]) =>
      JSON.stringify({ v: 1, type: "offer", session: s, sdp: body, stream: st }),
    ),
  fc
    .tuple(
      session,
      fc.constantFrom(null, { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" }),
    )
    .map(([s, c]) => JSON.stringify({ v: 1, type: "candidate", session: s, candidate: c })),
  session.map((s) => JSON.stringify({ v: 1, type: "bye", session: s })),
);

const junk = mutatedText(
  [
    JSON.stringify({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER }),
    JSON.stringify({ v: 1, type: "candidate", session: "s2", candidate: null }),
    JSON.stringify({ v: 1, type: "bye", session: "s3" }),
  ],
  { tokens: ['"v":1,', '"session":"s1",', '"type":"bye",', "null", "{", "}"], maxLength: 2048 },
);

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("send" as const),
      viewer: fc.integer({ min: 0, max: VIEWERS.length - 1 }),
      payloads: fc.array(
        fc.oneof({ weight: 3, arbitrary: wellFormed }, { weight: 1, arbitrary: junk }),
        {
          minLength: 1,
          maxLength: 8,
        },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("end" as const),
      viewer: fc.integer({ min: 0, max: VIEWERS.length - 1 }),
      session,
      reason: fc.constantFrom(...BYE_REASONS),
    }),
  },
);

/** What a viewer must receive; errors are compared by code and session only. */
type Reply = Record<string, unknown>;

/** The host's sessions and the replies owed, replaying FixedAnswerHost's rules. */
class Model {
  readonly sessions = new Set<string>();
  readonly owed = new Map<string, Reply[]>(VIEWERS.map((v) => [v, []]));

  #reply(viewer: string, reply: Reply): void {
    this.owed.get(viewer)?.push(reply);
  }

  #error(viewer: string, code: string, session: string | undefined): void {
    this.#reply(
      viewer,
      session === undefined ? { type: "error", code } : { type: "error", code, session },
    );
  }

  /** One burst from one viewer, handled in order; candidates trickle after the burst. */
  burst(viewer: string, payloads: readonly string[]): void {
    const answered: string[] = [];
    for (const payload of payloads) {
      const outcome = expectedOutcome(Buffer.from(payload));
      const key = (s: string): string => `${viewer}/${s}`;
      switch (outcome.kind) {
        case "ignore":
          break;
        case "bad-request":
          this.#error(viewer, "bad-request", outcome.session);
          break;
        case "candidate":
          if (!this.sessions.has(key(outcome.session)))
            this.#error(viewer, "not-found", outcome.session);
          break;
        case "bye":
          this.sessions.delete(key(outcome.session));
          break;
        case "offer": {
          const s = outcome.session;
          if (!outcome.sdp.startsWith("v=0")) this.#error(viewer, "bad-request", s);
          else if (!outcome.sdp.includes("m=video") || !outcome.sdp.includes("H264"))
            this.#error(viewer, "unsupported", s);
          else if (outcome.stream !== "main") this.#error(viewer, "unsupported", s);
          else if (!this.sessions.has(key(s)) && this.sessions.size >= MAX_VIEWERS)
            this.#error(viewer, "busy", s);
          else {
            this.sessions.add(key(s));
            this.#reply(viewer, { v: 1, type: "answer", session: s, sdp: FIXED_ANSWER });
            answered.push(s);
          }
        }
      }
    }
    for (const s of answered) {
      if (!this.sessions.has(`${viewer}/${s}`)) continue;
      this.#reply(viewer, { type: "candidate", session: s, trickled: true });
      this.#reply(viewer, { v: 1, type: "candidate", session: s, candidate: null });
    }
  }

  end(viewer: string, session: string, reason: ByeReason): void {
    if (this.sessions.delete(`${viewer}/${session}`)) {
      this.#reply(viewer, { v: 1, type: "bye", session, reason });
    }
  }
}

/** A received message in the model's terms. */
function normalize(msg: Record<string, unknown>): Reply {
  if (msg.type === "error") {
    return msg.session === undefined
      ? { type: "error", code: msg.code }
      : { type: "error", code: msg.code, session: msg.session };
  }
  if (msg.type === "candidate" && msg.candidate !== null) {
    return { type: "candidate", session: msg.session, trickled: true };
  }
  return msg;
}

/** Each candidate message comes after an answer of its session. */
function candidatesFollowAnswers(messages: unknown[]): boolean {
  const answered = new Set<unknown>();
  for (const m of messages) {
    const { type, session } = m as { type?: unknown; session?: unknown };
    if (type === "answer") answered.add(session);
    if (type === "candidate" && !answered.has(session)) return false;
  }
  return true;
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const settle = async (): Promise<void> => {
  // The dispatcher lets one message through per event-loop turn: wait until
  // none has waited for four turns (FixedAnswerHost's trickle is a
  // setImmediate queued by the answer, and its replies take turns too).
  for (let quiet = 0; quiet < 4;) {
    await immediate();
    quiet = messagesWaitingTurn() > 0 ? 0 : quiet + 1;
  }
};

export const signalingDispatcherTarget = defineTarget({
  name: "signaling-dispatcher",
  about:
    "bursts of viewer messages through SignalingDispatcher: the replies the spec owes, in order",
  arbitrary: fc.array(action, { minLength: 1, maxLength: 4 }),
  codec: jsonCodec<Action[]>(),
  budgetMs: 500,
  async: true,
  corpusDir: "gateway/src/signaling/fuzz/corpus/signaling-dispatcher",
  async check(actions: Action[]) {
    const host = new FixedAnswerHost(MAX_VIEWERS);
    const dispatcher = new SignalingDispatcher({
      host,
      offerRate: NO_LIMIT,
      errorReplyRate: NO_LIMIT,
    });
    const errors: Error[] = [];
    dispatcher.on("error", (err) => errors.push(err));
    const viewers = VIEWERS.map((v) => new MemoryViewer(dispatcher, v));
    const model = new Model();
    try {
      for (const a of actions) {
        const name = VIEWERS[a.viewer] ?? "v0";
        if (a.kind === "send") {
          for (const p of a.payloads) viewers[a.viewer]?.send(p);
          model.burst(name, a.payloads);
        } else {
          host.end(name, a.session, a.reason);
          model.end(name, a.session, a.reason);
        }
        await settle();
      }
      for (const [i, v] of viewers.entries()) {
        const name = VIEWERS[i] ?? "";
        const got = v.received.map(normalize);
        const want = model.owed.get(name) ?? [];
        // Replies to a burst interleave with the host's trickle as the event
        // loop turns (the dispatcher takes one message per turn), and a
        // session replaced or ended by its viewer may have trickled before
        // that message was taken. So: every other message exactly as owed
        // (as a multiset), every session owed a trickle got one, and no
        // candidate for a session that was never answered or before its answer.
        const sessionOf = (m: unknown): unknown => (m as { session?: unknown }).session;
        const isCandidate = (m: unknown): boolean => (m as { type?: unknown }).type === "candidate";
        const sorted = (list: unknown[]): string[] =>
          list
            .filter((m) => !isCandidate(m))
            .map((m) => JSON.stringify(m))
            .sort();
        const trickled = new Set(got.filter(isCandidate).map(sessionOf));
        expectThat(
          isDeepStrictEqual(sorted(got), sorted(want)) &&
            want.filter(isCandidate).every((m) => trickled.has(sessionOf(m))),
          `${name} received ${JSON.stringify(got)}\nthe spec owes it ${JSON.stringify(want)}`,
        );
        expectThat(
          candidatesFollowAnswers(got),
          `${name} got a candidate before its session's answer: ${JSON.stringify(got)}`,
        );
      }
      expectThat(errors.length === 0, `the dispatcher reported ${errors.map(String).join("; ")}`);
      expectThat(
        host.sessionCount === model.sessions.size,
        `host holds ${host.sessionCount} sessions, the rules leave ${model.sessions.size}`,
      );
    } finally {
      dispatcher.close();
    }
  },
});
