import { describe, expect, it } from "vitest";
import {
  MAX_PAYLOAD_BYTES,
  MAX_SNAPSHOT_JPEG_BYTES,
  answerMessage,
  byeMessage,
  candidateMessage,
  encodeMessage,
  errorMessage,
  iceRestartMessage,
  iceServersMessage,
  iceServersRequest,
  offerMessage,
  sourceMessage,
  offlineStatus,
  onlineStatus,
  parseDeviceInbound,
  parseStatus,
  parseViewerInbound,
  snapshotMessage,
  snapshotRequest,
} from "./messages.js";

const enc = new TextEncoder();
const json = (value: unknown): Uint8Array => enc.encode(JSON.stringify(value));
const badRequest = (message: RegExp, session?: string) => {
  const common = {
    kind: "reply-error",
    code: "bad-request",
    message: expect.stringMatching(message) as unknown,
  };
  return {
    ...common,
    ...(session === undefined ? {} : { session }),
    step: expect.any(Number) as unknown,
  };
};

describe("parseDeviceInbound, step 1: size, JSON, object", () => {
  it("answers bad-request without a session to a payload one byte over 64 KiB", () => {
    const pad = "x".repeat(
      MAX_PAYLOAD_BYTES +
        1 -
        JSON.stringify({ v: 1, type: "offer", session: "s1", sdp: "" }).length,
    );
    const payload = json({ v: 1, type: "offer", session: "s1", sdp: pad });
    expect(payload.byteLength).toBe(MAX_PAYLOAD_BYTES + 1);
    expect(parseDeviceInbound(payload)).toEqual(badRequest(/65537 bytes is over/));
  });

  it("accepts a payload of exactly 64 KiB", () => {
    const pad = "x".repeat(
      MAX_PAYLOAD_BYTES - JSON.stringify({ v: 1, type: "offer", session: "s1", sdp: "" }).length,
    );
    const payload = json({ v: 1, type: "offer", session: "s1", sdp: pad });
    expect(payload.byteLength).toBe(MAX_PAYLOAD_BYTES);
    expect(parseDeviceInbound(payload).kind).toBe("message");
  });

  it("counts UTF-8 bytes, not characters, for string payloads", () => {
    const base = JSON.stringify({ v: 1, type: "bye", session: "s1", pad: "" });
    const chars = Math.ceil((MAX_PAYLOAD_BYTES + 1 - base.length) / 3);
    const text = JSON.stringify({ v: 1, type: "bye", session: "s1", pad: "€".repeat(chars) });
    expect(text.length).toBeLessThan(MAX_PAYLOAD_BYTES);
    expect(parseDeviceInbound(text)).toEqual(badRequest(/over/));
  });

  it("answers bad-request without a session to a payload that is not JSON", () => {
    expect(parseDeviceInbound(enc.encode('{"v":1,"type":"bye","session":"s1"'))).toEqual(
      badRequest(/not JSON/),
    );
  });

  it("answers bad-request to a payload that is not UTF-8", () => {
    expect(parseDeviceInbound(new Uint8Array([0x7b, 0xff, 0x7d]))).toEqual(badRequest(/not UTF-8/));
  });

  it("answers bad-request without a session to JSON that is not an object", () => {
    for (const value of [null, 1, "offer", [{ v: 1, type: "bye", session: "s1" }], true]) {
      expect(parseDeviceInbound(json(value))).toEqual(badRequest(/not a JSON object/));
    }
  });
});

describe("parseDeviceInbound, which step failed", () => {
  it("reports step 1, 2 or 4 so a device can count invalid messages by kind", () => {
    expect(parseDeviceInbound("[]")).toMatchObject({ step: 1 });
    expect(parseDeviceInbound(json({ v: 2, type: "bye", session: "s1" }))).toMatchObject({
      step: 2,
    });
    expect(parseDeviceInbound(json({ v: 1, type: "bye", session: "" }))).toMatchObject({ step: 4 });
  });
});

describe("parseDeviceInbound, step 2: v and type", () => {
  it("answers bad-request with the session when v is missing", () => {
    expect(parseDeviceInbound(json({ type: "bye", session: "s1" }))).toEqual(
      badRequest(/"v" is missing/, "s1"),
    );
  });

  it("answers bad-request when v is 2 or the string 1", () => {
    expect(parseDeviceInbound(json({ v: 2, type: "bye", session: "s1" }))).toEqual(
      badRequest(/number 1/, "s1"),
    );
    expect(parseDeviceInbound(json({ v: "1", type: "bye", session: "s1" }))).toEqual(
      badRequest(/number 1/, "s1"),
    );
  });

  it("answers bad-request when type is missing or a number", () => {
    expect(parseDeviceInbound(json({ v: 1, session: "s1" }))).toEqual(
      badRequest(/"type" is missing/, "s1"),
    );
    expect(parseDeviceInbound(json({ v: 1, type: 3, session: "s1" }))).toEqual(
      badRequest(/must be a string/, "s1"),
    );
  });

  it("leaves the session out of a step-2 error when the session is not a valid id", () => {
    expect(parseDeviceInbound(json({ type: "bye", session: "bad id!" }))).toEqual(
      badRequest(/"v"/),
    );
    expect(parseDeviceInbound(json({ type: "bye", session: 7 }))).toEqual(badRequest(/"v"/));
  });

  it("checks v and type before deciding the type is unknown", () => {
    expect(parseDeviceInbound(json({ v: 2, type: "hello" }))).toEqual(badRequest(/number 1/));
  });
});

describe("parseDeviceInbound, step 3: unknown types", () => {
  it("ignores a type the device does not know", () => {
    expect(parseDeviceInbound(json({ v: 1, type: "hello", session: 5 }))).toMatchObject({
      kind: "ignore",
    });
  });

  it("ignores device-to-viewer types sent to a device", () => {
    for (const type of ["answer", "error", "status"]) {
      expect(parseDeviceInbound(json({ v: 1, type, session: "s1" })).kind).toBe("ignore");
    }
  });
});

describe("parseDeviceInbound, step 4: fields", () => {
  it("parses an offer and defaults stream to main", () => {
    expect(parseDeviceInbound(json({ v: 1, type: "offer", session: "s1", sdp: "v=0" }))).toEqual({
      kind: "message",
      msg: { v: 1, type: "offer", session: "s1", sdp: "v=0", stream: "main" },
    });
  });

  it("keeps a named stream and drops unknown fields", () => {
    const result = parseDeviceInbound(
      json({ v: 1, type: "offer", session: "s1", sdp: "v=0", stream: "sub", x: 1 }),
    );
    expect(result).toEqual({ kind: "message", msg: offerMessage("s1", "v=0", "sub") });
  });

  it("answers bad-request with the session to an offer without sdp", () => {
    expect(parseDeviceInbound(json({ v: 1, type: "offer", session: "s1" }))).toEqual(
      badRequest(/"sdp" is missing/, "s1"),
    );
  });

  it("answers bad-request to an offer whose sdp or stream is not a string", () => {
    expect(parseDeviceInbound(json({ v: 1, type: "offer", session: "s1", sdp: 1 }))).toEqual(
      badRequest(/"sdp"/, "s1"),
    );
    const result = parseDeviceInbound(
      json({ v: 1, type: "offer", session: "s1", sdp: "v=0", stream: 2 }),
    );
    expect(result).toEqual(badRequest(/"stream"/, "s1"));
  });

  it("answers bad-request without a session when the session id is missing, too long or has bad characters", () => {
    for (const session of [undefined, "", "a".repeat(65), "s 1", "s/1", "s+1", 12]) {
      expect(parseDeviceInbound(json({ v: 1, type: "bye", session }))).toEqual(
        badRequest(/"session"/),
      );
    }
  });

  it("accepts a 64-character session id", () => {
    expect(parseDeviceInbound(json({ v: 1, type: "bye", session: "a".repeat(64) })).kind).toBe(
      "message",
    );
  });

  it("parses a candidate with sdpMid, with sdpMLineIndex, and null", () => {
    const withMid = { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" };
    const withIndex = { candidate: "candidate:1", sdpMLineIndex: 0, usernameFragment: "uf" };
    for (const candidate of [withMid, withIndex, null]) {
      expect(
        parseDeviceInbound(json({ v: 1, type: "candidate", session: "s1", candidate })),
      ).toEqual({
        kind: "message",
        msg: candidateMessage("s1", candidate),
      });
    }
  });

  it("answers bad-request to a candidate that is not an object or null", () => {
    for (const candidate of ["candidate:1", 1, [], true]) {
      const result = parseDeviceInbound(
        json({ v: 1, type: "candidate", session: "s1", candidate }),
      );
      expect(result).toEqual(badRequest(/object or null/, "s1"));
    }
  });

  it("answers bad-request to a candidate message without the candidate field", () => {
    expect(parseDeviceInbound(json({ v: 1, type: "candidate", session: "s1" }))).toEqual(
      badRequest(/missing/, "s1"),
    );
  });

  it("answers bad-request to a candidate without a string candidate or without sdpMid and sdpMLineIndex", () => {
    const cases = [
      { sdpMid: "0" },
      { candidate: 5, sdpMid: "0" },
      { candidate: "candidate:1" },
      { candidate: "candidate:1", sdpMid: null, sdpMLineIndex: null },
      { candidate: "candidate:1", sdpMid: 0 },
      { candidate: "candidate:1", sdpMLineIndex: 0.5 },
      { candidate: "candidate:1", sdpMLineIndex: -1 },
    ];
    for (const candidate of cases) {
      const result = parseDeviceInbound(
        json({ v: 1, type: "candidate", session: "s1", candidate }),
      );
      expect(result).toEqual(badRequest(/candidate/, "s1"));
    }
  });

  it("parses a bye and ignores a reason from a viewer", () => {
    expect(
      parseDeviceInbound(json({ v: 1, type: "bye", session: "s1", reason: "kicked" })),
    ).toEqual({
      kind: "message",
      msg: { v: 1, type: "bye", session: "s1" },
    });
  });
});

describe("parseViewerInbound", () => {
  it("parses every message a device sends", () => {
    const messages = [
      answerMessage("s1", "v=0"),
      candidateMessage("s1", { candidate: "candidate:1", sdpMid: "0" }),
      candidateMessage("s1", null),
      byeMessage("s1", "shutdown"),
      errorMessage("busy", "8 viewers already", "s1"),
      errorMessage("bad-request", "payload is not JSON"),
    ];
    for (const msg of messages)
      expect(parseViewerInbound(encodeMessage(msg))).toEqual({ kind: "message", msg });
  });

  it("parses a source message, defaulting stream to main and reading an unknown state as not live", () => {
    const away = sourceMessage("s1", { stream: "main", state: "unavailable", reason: "unplugged" });
    expect(parseViewerInbound(encodeMessage(away))).toEqual({ kind: "message", msg: away });
    expect(
      parseViewerInbound(json({ v: 1, type: "source", session: "s1", state: "live" })),
    ).toEqual({ kind: "message", msg: sourceMessage("s1", { stream: "main", state: "live" }) });
    expect(
      parseViewerInbound(
        json({ v: 1, type: "source", session: "s1", state: "melting", reason: "Not A Token!" }),
      ),
    ).toEqual({
      kind: "message",
      msg: sourceMessage("s1", { stream: "main", state: "unavailable" }),
    });
    expect(
      parseViewerInbound(json({ v: 1, type: "source", session: "s1", state: 3 })),
    ).toMatchObject({ kind: "invalid", session: "s1" });
    expect(
      parseViewerInbound(json({ v: 1, type: "source", session: "s1", stream: 1, state: "live" })),
    ).toMatchObject({ kind: "invalid" });
  });

  it("is a type a device ignores (viewer-bound only)", () => {
    const msg = sourceMessage("s1", { stream: "main", state: "live" });
    expect(parseDeviceInbound(encodeMessage(msg))).toMatchObject({ kind: "ignore" });
  });

  it("keeps a bye with an unknown reason, without the reason", () => {
    expect(
      parseViewerInbound(json({ v: 1, type: "bye", session: "s1", reason: "new-reason" })),
    ).toEqual({
      kind: "message",
      msg: byeMessage("s1"),
    });
  });

  it("reads an unknown error code as internal and keeps the code in the message", () => {
    expect(
      parseViewerInbound(
        json({ v: 1, type: "error", session: "s1", code: "teapot", message: "no" }),
      ),
    ).toEqual({
      kind: "message",
      msg: errorMessage("internal", "teapot: no", "s1"),
    });
  });

  it("marks broken messages invalid and ignores unknown types", () => {
    expect(parseViewerInbound("nope")).toMatchObject({ kind: "invalid" });
    expect(parseViewerInbound(json({ v: 1, type: "answer", session: "s1" }))).toMatchObject({
      kind: "invalid",
      session: "s1",
    });
    expect(parseViewerInbound(json({ v: 1, type: "offer", session: "s1", sdp: "" }))).toMatchObject(
      { kind: "ignore" },
    );
  });
});

describe("ICE servers and restarts (docs/signaling.md)", () => {
  it("takes a viewer's ice-servers request, with or without a session", () => {
    expect(parseDeviceInbound(json({ v: 1, type: "ice-servers" }))).toEqual({
      kind: "message",
      msg: iceServersRequest(),
    });
    expect(parseDeviceInbound(json({ v: 1, type: "ice-servers", session: 5 }))).toEqual({
      kind: "message",
      msg: iceServersRequest(),
    });
  });

  it("reads the device's list and restart request", () => {
    const messages = [
      iceServersMessage([]),
      iceServersMessage(
        [
          { urls: ["stun:198.18.0.2:3478"] },
          {
            urls: ["turn:198.18.0.2:3478", "turns:198.18.0.2:5349?transport=tcp"],
            username: "1767229200:v1",
            credential: "abc=",
          },
        ],
        86_400,
      ),
      iceServersMessage([{ urls: "stun:stun.example.net" }]),
      iceRestartMessage("s1", "address-changed"),
      iceRestartMessage("s1"),
    ];
    for (const msg of messages)
      expect(parseViewerInbound(encodeMessage(msg))).toEqual({ kind: "message", msg });
  });

  it("refuses an ICE server list a browser would choke on", () => {
    const bad: [unknown, RegExp][] = [
      [{ iceServers: "stun:x" }, /must be a list/],
      [{ iceServers: [42] }, /iceServers\[0\] is not an object/],
      [{ iceServers: [{ urls: [] }] }, /non-empty list/],
      [{ iceServers: [{ urls: "http://x" }] }, /not a stun:, turn: or turns: URL/],
      [{ iceServers: [{ urls: ["stun:a", "stun: b"] }] }, /"stun: b" is not/],
      [{ iceServers: [{ urls: "turn:x", username: 1 }] }, /username must be a string/],
      [{ iceServers: [], ttl: -1 }, /"ttl" must be a positive number/],
      [{ iceServers: [], ttl: "1" }, /"ttl"/],
    ];
    for (const [fields, why] of bad) {
      expect(
        parseViewerInbound(json({ v: 1, type: "ice-servers", ...(fields as object) })),
      ).toEqual({
        kind: "invalid",
        why: expect.stringMatching(why) as unknown,
      });
    }
  });

  it("needs a session on a restart request", () => {
    expect(parseViewerInbound(json({ v: 1, type: "ice-restart" }))).toMatchObject({
      kind: "invalid",
    });
    // A reason that is not a string is left out, the request still counts.
    expect(
      parseViewerInbound(json({ v: 1, type: "ice-restart", session: "s1", reason: 7 })),
    ).toEqual({ kind: "message", msg: iceRestartMessage("s1") });
  });
});

describe("parseStatus", () => {
  it("parses an online status as the device builds it", () => {
    const status = onlineStatus({
      name: "Porch",
      version: "0.1.0",
      streams: [{ id: "main", codec: "H264", width: 1280, height: 720, fps: 30 }],
      ts: 1763700000000,
    });
    expect(parseStatus(encodeMessage(status))).toEqual({ kind: "status", status });
  });

  it("parses a stream's source state and reason, and leaves them out when absent", () => {
    const status = onlineStatus({
      name: "Porch",
      version: "0.1.0",
      streams: [
        {
          id: "main",
          codec: "H264",
          width: 1280,
          height: 720,
          fps: 30,
          state: "unavailable",
          reason: "unplugged",
        },
      ],
      ts: 1763700000000,
    });
    expect(parseStatus(encodeMessage(status))).toEqual({ kind: "status", status });
    const parsed = parseStatus(
      json({
        v: 1,
        type: "status",
        online: true,
        name: "P",
        version: "1",
        streams: [{ id: "main", codec: "H264", width: 1, height: 1, fps: 1, state: "new-state" }],
        ts: 1,
      }),
    );
    expect(parsed).toMatchObject({ status: { streams: [{ state: "unavailable" }] } });
  });

  it("parses the offline will", () => {
    expect(parseStatus('{"v":1,"type":"status","online":false}')).toEqual({
      kind: "status",
      status: offlineStatus(),
    });
  });

  it("reads an empty retained payload as a cleared status", () => {
    expect(parseStatus(new Uint8Array(0))).toEqual({ kind: "cleared" });
  });

  it("rejects an online status without name, streams or ts", () => {
    expect(parseStatus(json({ v: 1, type: "status", online: true }))).toMatchObject({
      kind: "invalid",
    });
    const noTs = { v: 1, type: "status", online: true, name: "a", version: "1", streams: [] };
    expect(parseStatus(json(noTs))).toMatchObject({
      kind: "invalid",
      why: expect.stringMatching(/ts/) as unknown,
    });
    const badStream = { ...noTs, ts: 1, streams: [{ id: "main", codec: "H264" }] };
    expect(parseStatus(json(badStream))).toMatchObject({ kind: "invalid" });
  });
});

describe("snapshot messages", () => {
  it("parses a viewer's snapshot request, its stream defaulting to main", () => {
    expect(parseDeviceInbound(json({ v: 1, type: "snapshot", session: "r1" }))).toEqual({
      kind: "message",
      msg: snapshotRequest("r1"),
    });
    expect(
      parseDeviceInbound(
        json({ v: 1, type: "snapshot", session: "r1", width: 640, stream: "side" }),
      ),
    ).toEqual({ kind: "message", msg: snapshotRequest("r1", { width: 640, stream: "side" }) });
  });

  it("answers bad-request with the session to a width that is no integer from 16 to 16384", () => {
    for (const width of [15, 16385, 320.5, "640", null]) {
      expect(
        parseDeviceInbound(json({ v: 1, type: "snapshot", session: "r1", width })),
      ).toMatchObject({ kind: "reply-error", code: "bad-request", session: "r1", step: 4 });
    }
    expect(parseDeviceInbound(json({ v: 1, type: "snapshot" }))).toMatchObject({
      kind: "reply-error",
      code: "bad-request",
      step: 4,
    });
  });

  it("round-trips a device's reply and refuses one whose data is not base64 or whose size is missing", () => {
    const reply = snapshotMessage("r1", "main", {
      width: 320,
      height: 180,
      ts: 1,
      data: "/9j/2Q==",
    });
    expect(parseViewerInbound(encodeMessage(reply))).toEqual({ kind: "message", msg: reply });
    expect(parseViewerInbound(json({ ...reply, data: "not base64!" }))).toMatchObject({
      kind: "invalid",
      session: "r1",
    });
    expect(parseViewerInbound(json({ ...reply, width: undefined }))).toMatchObject({
      kind: "invalid",
    });
    expect(parseViewerInbound(json({ ...reply, mime: "image/png" }))).toMatchObject({
      kind: "invalid",
    });
  });

  it("never lets a reply of the largest JPEG go over the 64 KiB a message may have", () => {
    const data = Buffer.alloc(MAX_SNAPSHOT_JPEG_BYTES, 0xff).toString("base64");
    const reply = snapshotMessage("x".repeat(64), "m".repeat(64), {
      width: 16384,
      height: 16384,
      ts: Date.now(),
      data,
    });
    expect(Buffer.byteLength(encodeMessage(reply))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });
});
