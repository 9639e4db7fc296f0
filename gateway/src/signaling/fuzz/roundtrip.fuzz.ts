/**
 * Fuzz target "signaling-roundtrip": any message the builders of
 * message-types.ts make, with any ids, SDP text and candidate fields the
 * spec allows, survives encodeMessage and comes back equal from the parser
 * of the side that receives it (device, viewer or status).
 */
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import {
  BYE_REASONS,
  ERROR_CODES,
  answerMessage,
  byeMessage,
  candidateMessage,
  encodeMessage,
  errorMessage,
  offerMessage,
  offlineStatus,
  onlineStatus,
  parseDeviceInbound,
  parseStatus,
  parseViewerInbound,
  type IceCandidate,
  type SignalingMessage,
} from "../messages.js";
import { defineTarget, expectThat, jsonCodec } from "../../fuzz/fuzz-target.js";

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const text = fc.string({ unit: "grapheme", maxLength: 200 });

const candidate: fc.Arbitrary<IceCandidate | null> = fc.oneof(
  fc.constant(null),
  fc
    .record(
      {
        candidate: text,
        sdpMid: text,
        sdpMLineIndex: fc.nat(),
        usernameFragment: text,
      },
      { requiredKeys: ["candidate"], noNullPrototype: true },
    )
    .filter((c) => c.sdpMid !== undefined || c.sdpMLineIndex !== undefined),
);

const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n));

const message: fc.Arbitrary<SignalingMessage> = fc.oneof(
  fc
    .tuple(id, text, fc.option(text, { nil: undefined }))
    .map(([s, sdp, stream]) => offerMessage(s, sdp, stream)),
  fc.tuple(id, candidate).map(([s, c]) => candidateMessage(s, c)),
  fc
    .tuple(id, fc.option(fc.constantFrom(...BYE_REASONS), { nil: undefined }))
    .map(([s, r]) => byeMessage(s, r)),
  fc.tuple(id, text).map(([s, sdp]) => answerMessage(s, sdp)),
  fc
    .tuple(fc.constantFrom(...ERROR_CODES), text, fc.option(id, { nil: undefined }))
    .map(([code, m, s]) => errorMessage(code, m, s)),
  fc
    .record(
      {
        name: text,
        version: text,
        streams: fc.array(
          fc.record(
            { id: text, codec: text, width: finite, height: finite, fps: finite },
            { noNullPrototype: true },
          ),
          { maxLength: 4 },
        ),
        ts: finite,
      },
      { noNullPrototype: true },
    )
    .map((info) => onlineStatus(info)),
  fc.constant(offlineStatus()),
);

function parsedBack(msg: SignalingMessage, wire: string): unknown {
  if (msg.type === "status") {
    const r = parseStatus(wire);
    return r.kind === "status" ? r.status : r;
  }
  // A bye carrying a reason and every answer/error go to the viewer; an
  // offer and a reasonless bye to the device; a candidate goes both ways.
  const toDevice = msg.type === "offer" || (msg.type === "bye" && msg.reason === undefined);
  if (toDevice || msg.type === "candidate") {
    const r = parseDeviceInbound(wire);
    if (r.kind !== "message") return r;
    if (msg.type !== "candidate") return r.msg;
    const v = parseViewerInbound(wire);
    return isDeepStrictEqual(v.kind === "message" ? v.msg : v, r.msg) ? r.msg : v;
  }
  const r = parseViewerInbound(wire);
  return r.kind === "message" ? r.msg : r;
}

export const signalingRoundtripTarget = defineTarget({
  name: "signaling-roundtrip",
  about: "every message the builders make survives encodeMessage and the receiving side's parser",
  arbitrary: message,
  codec: jsonCodec<SignalingMessage>(),
  budgetMs: 250,
  corpusDir: "gateway/src/signaling/fuzz/corpus/signaling-roundtrip",
  check(msg: SignalingMessage) {
    const wire = encodeMessage(msg);
    const back = parsedBack(msg, wire);
    expectThat(isDeepStrictEqual(back, msg), `${wire} came back as ${JSON.stringify(back)}`);
  },
});
