import { describe, expect, it } from "vitest";
import { brokerUrlProblem, buildViewerQuery, parseViewerQuery } from "./query.js";

describe("parseViewerQuery", () => {
  it("opens one camera from ?device=", () => {
    const q = parseViewerQuery("?device=porch");
    expect(q.devices).toEqual(["porch"]);
    expect(q.problems).toEqual([]);
  });

  it("opens a grid from ?devices=a,b,c in order, without duplicates", () => {
    expect(parseViewerQuery("?devices=a,b,,a,c").devices).toEqual(["a", "b", "c"]);
  });

  it("merges repeated device= with devices=", () => {
    expect(parseViewerQuery("?device=a&device=b&devices=c").devices).toEqual(["a", "b", "c"]);
  });

  it("reports and skips an invalid camera id instead of failing", () => {
    const q = parseViewerQuery("?devices=ok,bad/id,also_ok");
    expect(q.devices).toEqual(["ok", "also_ok"]);
    expect(q.problems).toHaveLength(1);
    expect(q.problems[0]).toContain('"bad/id"');
  });

  it("takes a valid prefix and refuses one with wildcards", () => {
    expect(parseViewerQuery("?prefix=site1/cams").prefix).toBe("site1/cams");
    const bad = parseViewerQuery("?prefix=site/%2B");
    expect(bad.prefix).toBeUndefined();
    expect(bad.problems[0]).toContain("prefix");
  });

  it("takes a ws/wss broker and refuses mqtt:// (a browser cannot open TCP)", () => {
    expect(parseViewerQuery("?broker=wss://b.example/mqtt").broker).toBe("wss://b.example/mqtt");
    const bad = parseViewerQuery("?broker=mqtt://b.example:1883");
    expect(bad.broker).toBeUndefined();
    expect(bad.problems[0]).toContain("ws:// or wss://");
  });

  it("turns stats on with stats=1 and leaves it off by default", () => {
    expect(parseViewerQuery("?stats=1").stats).toBe(true);
    expect(parseViewerQuery("?stats").stats).toBe(true);
    expect(parseViewerQuery("?stats=0").stats).toBe(false);
    expect(parseViewerQuery("").stats).toBe(false);
  });
});

describe("buildViewerQuery", () => {
  it("writes one camera as ?device= and several as ?devices=a,b", () => {
    expect(buildViewerQuery({ devices: ["porch"] })).toBe("?device=porch");
    expect(buildViewerQuery({ devices: ["a", "b"] })).toBe("?devices=a,b");
    expect(buildViewerQuery({ devices: [] })).toBe("");
  });

  it("round-trips through parseViewerQuery with prefix, broker and stats", () => {
    const view = {
      devices: ["a", "b-2"],
      prefix: "site1/cams",
      broker: "wss://broker.example:8443/mqtt?x=1",
      stats: true,
    };
    const parsed = parseViewerQuery(buildViewerQuery(view));
    expect(parsed).toEqual({ ...view, problems: [] });
  });
});

describe("brokerUrlProblem", () => {
  it("accepts ws and wss URLs", () => {
    expect(brokerUrlProblem("ws://127.0.0.1:8080/mqtt")).toBeUndefined();
    expect(brokerUrlProblem("wss://cams.example/mqtt")).toBeUndefined();
  });

  it("explains what is wrong with anything else", () => {
    expect(brokerUrlProblem("not a url")).toContain("not a URL");
    expect(brokerUrlProblem("http://x/mqtt")).toContain("ws:// or wss://");
  });
});
