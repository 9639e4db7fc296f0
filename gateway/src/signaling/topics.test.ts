import { describe, expect, it } from "vitest";
import {
  deviceRxFilter,
  isValidPrefix,
  parseTopic,
  randomId,
  rxTopic,
  statusFilter,
  statusTopic,
  txTopic,
} from "./topics.js";

describe("topics", () => {
  it("builds the three topics and the two filters of the spec", () => {
    expect(statusTopic("camgw", "porch")).toBe("camgw/porch/status");
    expect(rxTopic("camgw", "porch", "v1")).toBe("camgw/porch/rx/v1");
    expect(txTopic("home/cams", "porch", "v1")).toBe("home/cams/porch/tx/v1");
    expect(deviceRxFilter("camgw", "porch")).toBe("camgw/porch/rx/+");
    expect(statusFilter("camgw")).toBe("camgw/+/status");
  });

  it("accepts multi-level prefixes and refuses wildcards, empty levels and edge slashes", () => {
    expect(isValidPrefix("a/b-c/d_e")).toBe(true);
    for (const prefix of ["", "/camgw", "camgw/", "a//b", "a/+", "#", "a b", "caméra"]) {
      expect(isValidPrefix(prefix)).toBe(false);
    }
  });

  it("throws a RangeError naming the bad id", () => {
    expect(() => rxTopic("camgw", "porch", "a/b")).toThrow(RangeError);
    expect(() => statusTopic("camgw", "x".repeat(65))).toThrow(/deviceId/);
    expect(() => statusFilter("camgw/#")).toThrow(/prefix/);
  });

  it("parses topics under the prefix and nothing else", () => {
    expect(parseTopic("home/cams", "home/cams/porch/status")).toEqual({
      kind: "status",
      deviceId: "porch",
    });
    expect(parseTopic("camgw", "camgw/porch/rx/v1")).toEqual({
      kind: "rx",
      deviceId: "porch",
      viewerId: "v1",
    });
    expect(parseTopic("camgw", "camgw/porch/tx/v1")).toEqual({
      kind: "tx",
      deviceId: "porch",
      viewerId: "v1",
    });
    for (const topic of [
      "other/porch/status",
      "camgw/porch/rx",
      "camgw/porch/rx/v1/x",
      "camgw/porch/up/v1",
      "camgw//status",
    ]) {
      expect(parseTopic("camgw", topic)).toBeNull();
    }
  });

  it("makes random ids that are valid and distinct", () => {
    const ids = new Set(Array.from({ length: 100 }, () => randomId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
