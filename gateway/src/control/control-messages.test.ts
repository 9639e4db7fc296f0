import { describe, expect, it } from "vitest";
import { MAX_APP_DATA, MAX_CONTROL_MESSAGE, parseControlRequest } from "./control-messages.js";

const error = (message: string | Uint8Array): unknown => {
  const parsed = parseControlRequest(message);
  return parsed.ok ? undefined : parsed.error;
};

describe("control requests", () => {
  it("takes each command with its fields and keeps the id", () => {
    expect(parseControlRequest('{"id":7,"type":"ping"}')).toEqual({
      ok: true,
      request: { id: 7, type: "ping" },
    });
    expect(parseControlRequest('{"id":"a-1","type":"bitrate","kbps":800}')).toEqual({
      ok: true,
      request: { id: "a-1", type: "bitrate", kbps: 800 },
    });
    expect(parseControlRequest('{"type":"resolution","width":640,"height":360}')).toEqual({
      ok: true,
      request: { type: "resolution", width: 640, height: 360 },
    });
    expect(parseControlRequest('{"type":"app","data":{"pan":-10}}')).toEqual({
      ok: true,
      request: { type: "app", data: { pan: -10 } },
    });
    for (const type of ["keyframe", "snapshot", "stats"]) {
      expect(parseControlRequest(JSON.stringify({ type })).ok).toBe(true);
    }
  });

  it("refuses, in order: binary, too large, not JSON, not an object, bad id, bad type, unknown, bad fields", () => {
    expect(error(new Uint8Array([1, 2]))).toMatchObject({ code: "bad-request" });
    const big = JSON.stringify({ type: "ping", pad: "x".repeat(MAX_CONTROL_MESSAGE) });
    expect(error(big)).toMatchObject({ code: "too-large" });
    expect(error("{nope")).toMatchObject({ code: "bad-request", message: "not JSON" });
    expect(error("[1]")).toMatchObject({ code: "bad-request" });
    expect(error('{"id":-1,"type":"ping"}')).toMatchObject({ code: "bad-request" });
    expect(error('{"id":{"x":1},"type":"ping"}')).not.toHaveProperty("id");
    expect(error('{"id":3,"type":5}')).toMatchObject({ id: 3, code: "bad-request" });
    expect(error('{"id":4,"type":"reboot"}')).toMatchObject({ id: 4, code: "unknown-command" });
    expect(error('{"id":5,"type":"bitrate","kbps":"fast"}')).toMatchObject({
      id: 5,
      code: "bad-request",
    });
    expect(error('{"type":"bitrate","kbps":1.5}')).toMatchObject({ code: "bad-request" });
    expect(error('{"type":"resolution","width":640}')).toMatchObject({ code: "bad-request" });
    expect(error('{"type":"app"}')).toMatchObject({ code: "bad-request" });
    const bigApp = JSON.stringify({ type: "app", data: "y".repeat(MAX_APP_DATA) });
    expect(error(bigApp)).toMatchObject({ code: "too-large" });
  });

  it("counts the size in UTF-8 bytes, not characters", () => {
    const chars = Math.floor(MAX_CONTROL_MESSAGE / 3);
    const text = JSON.stringify({ type: "ping", note: "€".repeat(chars) });
    expect(text.length).toBeLessThan(MAX_CONTROL_MESSAGE);
    expect(error(text)).toMatchObject({ code: "too-large" });
  });
});
