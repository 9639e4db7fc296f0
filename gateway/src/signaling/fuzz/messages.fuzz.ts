/**
 * Fuzz target "signaling-messages": every payload a broker can deliver on
 * rx/<viewerId>, tx/<viewerId> and status, through the three parsers of
 * parse.ts. Properties: none throws; the device's verdict is the one the
 * spec's order gives (spec-model.ts), whether the payload arrives as bytes
 * or as a string; what a viewer accepts carries valid ids and known codes.
 */
import fc from "fast-check";
import {
  ICE_SERVER_URL,
  isErrorCode,
  isValidId,
  parseDeviceInbound,
  parseStatus,
  parseViewerInbound,
} from "../messages.js";
import { bytesCodec, defineTarget, expectThat } from "../../fuzz/fuzz-target.js";
import { mutatedBytes } from "../../fuzz/mutate.js";
import { expectedOutcome } from "./spec-model.js";

const OFFER_SDP =
  "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n" +
  "a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1\r\n";

const SEEDS: unknown[] = [
  { v: 1, type: "offer", session: "s1", sdp: OFFER_SDP, stream: "main" },
  { v: 1, type: "offer", session: "s1", sdp: OFFER_SDP },
  {
    v: 1,
    type: "candidate",
    session: "s1",
    candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" },
  },
  { v: 1, type: "candidate", session: "s1", candidate: { candidate: "", sdpMLineIndex: 0 } },
  { v: 1, type: "candidate", session: "s1", candidate: null },
  { v: 1, type: "bye", session: "s1" },
  { v: 1, type: "answer", session: "s1", sdp: OFFER_SDP },
  { v: 1, type: "bye", session: "s1", reason: "ice-failed" },
  { v: 1, type: "error", session: "s1", code: "busy", message: "8 viewers already" },
  { v: 1, type: "error", code: "teapot", message: "from a newer device" },
  {
    v: 1,
    type: "status",
    online: true,
    name: "Porch",
    version: "0.1.0",
    streams: [{ id: "main", codec: "H264", width: 1280, height: 720, fps: 30 }],
    ts: 1763700000000,
  },
  { v: 1, type: "status", online: false },
  { v: 1, type: "hello", session: "s1" },
  { v: 1, type: "ice-servers" },
  {
    v: 1,
    type: "ice-servers",
    iceServers: [
      { urls: ["stun:198.18.0.2:3478"] },
      { urls: "turn:198.18.0.2:3478", username: "1763786400:viewer-1", credential: "c" },
    ],
    ttl: 86400,
  },
  { v: 1, type: "ice-restart", session: "s1", reason: "address-changed" },
];

/** An offer just under the 64 KiB limit: mutations push it over, or keep it under. */
function nearLimitOffer(): string {
  const shell = JSON.stringify({ v: 1, type: "offer", session: "s1", sdp: "" });
  return JSON.stringify({
    v: 1,
    type: "offer",
    session: "s1",
    sdp: "é".repeat(Math.floor((65_536 - shell.length) / 2)),
  });
}

const TOKENS = [
  '"v":1,',
  '"v":1.0,',
  '"type":"offer",',
  '"type":"candidate",',
  '"type":"bye",',
  '"type":"ice-servers",',
  '"type":"ice-restart",',
  '"iceServers":[{"urls":"stun:x"}],',
  '"session":"s1",',
  '"session":"x".repeat',
  '"candidate":null,',
  '"candidate":{"candidate":"c"},',
  '"sdpMid":0,',
  '"sdpMLineIndex":-1,',
  '"sdpMLineIndex":1.5,',
  '"stream":null,',
  '"__proto__":{"v":1},',
  "1e400",
  "-0",
  "null",
  "[]",
  "{}",
  '"\\ud800"',
  "\xff",
  "\xc3",
  "\xed\xa0\x80",
];

/** Shared, as in spec-model.ts: decode() without { stream: true } keeps no state between calls. */
const utf8KeepingBom = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export const signalingMessagesTarget = defineTarget({
  name: "signaling-messages",
  about:
    "signaling payloads (rx, tx, status) through parseDeviceInbound, parseViewerInbound and parseStatus",
  // The near-limit offer costs a hundred times a small message: one input in twenty.
  arbitrary: fc.oneof(
    {
      weight: 19,
      arbitrary: mutatedBytes(
        SEEDS.map((s) => Buffer.from(JSON.stringify(s))),
        { tokens: TOKENS },
      ),
    },
    {
      weight: 1,
      arbitrary: mutatedBytes([Buffer.from(nearLimitOffer())], {
        tokens: TOKENS,
        maxLength: 70_000,
      }),
    },
  ),
  codec: bytesCodec,
  budgetMs: 250,
  corpusDir: "gateway/src/signaling/fuzz/corpus/signaling-messages",
  check(payload: Uint8Array) {
    const result = parseDeviceInbound(payload);
    const expected = expectedOutcome(payload);
    const said = JSON.stringify(result);
    switch (expected.kind) {
      case "bad-request":
        expectThat(
          result.kind === "reply-error" && result.session === expected.session,
          `spec says bad-request (session ${String(expected.session)}), parser said ${said}`,
        );
        break;
      case "ignore":
        expectThat(result.kind === "ignore", `spec says ignore, parser said ${said}`);
        break;
      default: {
        expectThat(result.kind === "message", `spec says ${expected.kind}, parser said ${said}`);
        const msg = result.msg;
        if (expected.kind === "ice-servers") {
          expectThat(msg.type === "ice-servers", `spec says ice-servers, parser said ${said}`);
          break;
        }
        expectThat(
          msg.type === expected.kind && "session" in msg && msg.session === expected.session,
          `spec says ${expected.kind} for ${expected.session}, parser said ${said}`,
        );
        if (msg.type === "offer" && expected.kind === "offer") {
          expectThat(
            msg.sdp === expected.sdp && msg.stream === expected.stream,
            `offer fields differ from the payload's: ${said}`,
          );
        }
        if (msg.type === "candidate" && expected.kind === "candidate") {
          const want = expected.candidate as Record<string, unknown> | null;
          const got = msg.candidate;
          expectThat(
            (want === null) === (got === null) &&
              (want === null || got === null || want.candidate === got.candidate),
            `candidate differs from the payload's: ${said}`,
          );
        }
      }
    }
    // The same payload handed over as a string (MQTT.js gives Buffers, a
    // WebSocket bridge may give text) gets the same verdict.
    // (A leading BOM is the exception: bytes go through TextDecoder, which
    // drops it as RFC 8259 section 8.1 allows; JSON.parse refuses it in a string.)
    let text: string | undefined;
    try {
      text = utf8KeepingBom.decode(payload);
    } catch {
      text = undefined;
    }
    if (text !== undefined && !text.startsWith("\ufeff")) {
      const fromText = JSON.stringify(parseDeviceInbound(text));
      expectThat(fromText === said, `as a string: ${fromText}; as bytes: ${said}`);
    }

    const viewer = parseViewerInbound(payload);
    if (viewer.kind === "message") {
      const msg = viewer.msg;
      if (msg.type === "error") {
        expectThat(isErrorCode(msg.code), `viewer accepted an unknown error code ${msg.code}`);
        expectThat(
          msg.session === undefined || isValidId(msg.session),
          "error with a bad session id",
        );
      } else if (msg.type === "ice-servers") {
        expectThat(
          msg.iceServers.every((server) =>
            (Array.isArray(server.urls) ? server.urls : [server.urls]).every((url) =>
              ICE_SERVER_URL.test(url),
            ),
          ),
          "viewer accepted an ICE server URL that is not stun:, turn: or turns:",
        );
      } else {
        expectThat(isValidId(msg.session), `viewer accepted a bad session id in ${msg.type}`);
      }
    }
    const status = parseStatus(payload);
    if (status.kind === "status" && status.status.online) {
      expectThat(
        Number.isFinite(status.status.ts) && Array.isArray(status.status.streams),
        "status accepted without a finite ts and a streams list",
      );
    }
  },
});
