import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../gateway/src/errors.js";
import {
  formatConditions,
  gilbertElliott,
  linkemParams,
  mergeConditions,
  parseConditions,
  parseRate,
  type ConditionTargets,
} from "./conditions.js";

const targets: ConditionTargets = {
  links: ["board", "viewer1", "viewer2", "turn", "broker"],
  hosts: ["board", "viewer1", "viewer2"],
  groups: { viewers: ["viewer1", "viewer2"] },
};

describe("the lab's control language", () => {
  it("applies a link entry to both directions, and a /up or /down entry to one", () => {
    const c = parseConditions("board:loss=2%:delay=40ms\nboard/up:rate=1mbit:queue=64kb", targets);
    expect(c.links.get("board")).toEqual({
      up: { loss: 0.02, delayMs: 40, rateBps: 1_000_000, queue: { bytes: 65536 } },
      down: { loss: 0.02, delayMs: 40 },
    });
  });

  it("lets a later entry override an earlier one's keys and keeps the rest", () => {
    const c = parseConditions("viewer1:delay=10ms:jitter=2ms, viewer1/down:delay=30ms", targets);
    expect(c.links.get("viewer1")).toEqual({
      up: { delayMs: 10, jitterMs: 2 },
      down: { delayMs: 30, jitterMs: 2 },
    });
  });

  it("expands the viewers group to every viewer's link", () => {
    const c = parseConditions("viewers/down:rate=600kbit", targets);
    expect(c.links.get("viewer1")?.down.rateBps).toBe(600_000);
    expect(c.links.get("viewer2")?.down.rateBps).toBe(600_000);
    expect(c.links.has("board")).toBe(false);
  });

  it("reads host keys, flags with and without values, comments and separators", () => {
    const c = parseConditions(
      "# a comment line\nboard:address=192.168.1.23:ifdown; broker:down ,viewer2:down=off",
      targets,
    );
    expect(c.hosts.get("board")).toEqual({ address: "192.168.1.23", ifdown: true });
    expect(c.links.get("broker")?.up.down).toBe(true);
    expect(c.links.get("viewer2")?.down.down).toBe(false);
  });

  it("takes tc's rate units and refuses kbps (kilobytes to tc)", () => {
    expect(parseRate("1mbit")).toBe(1_000_000);
    expect(parseRate("2.5Mbit")).toBe(2_500_000);
    expect(parseRate("400kbit")).toBe(400_000);
    expect(parseRate("64000")).toBe(64_000);
    expect(parseRate("1kbps")).toBeUndefined();
  });

  it.each([
    [
      "router:delay=1ms",
      /no link "router" in this lab \(board, viewer1, viewer2, turn, broker, viewers\)/,
    ],
    ["board", /say what to change/],
    ["board:loss=150%", /loss is a percentage like 2% or a fraction/],
    ["board:loss=2", /loss is a percentage/],
    ["board:delay=fast", /delay is a duration like 40ms/],
    ["board:rate=1kbps", /kbps would be kilobytes/],
    ["board:queue=lots", /queue is a time like 400ms or a size like 64kb/],
    ["board:burst=0.5:loss=1%", /burst is a mean burst length in packets, >= 1/],
    ["board:burst=3", /burst needs a loss rate/],
    ["board:colour=red", /unknown key "colour"/],
    ["board/up:address=192.168.1.2", /address is about the host, not one direction/],
    ["turn:address=198.18.0.9", /turn has no host whose address can change/],
    ["board:address=my-laptop", /address is an IPv4 address/],
    ["board:down=maybe", /down takes no value, or on\/off/],
    ["board:delay", /delay needs a value/],
    ["Board:delay=1ms", /starts with a link name/],
  ])("refuses %j clearly", (spec, message) => {
    expect(() => parseConditions(spec, targets)).toThrow(ConfigError);
    expect(() => parseConditions(spec, targets)).toThrow(message);
  });

  it("formats conditions as text that parses back to the same conditions", () => {
    const spec =
      "board:loss=2.5%:burst=3:delay=40ms:jitter=5ms\nboard/up:rate=1mbit:queue=200ms:reorder=1%\n" +
      "broker:delay=75ms\nviewer1:down\nboard:address=192.168.1.11:ifdown=off";
    const c = parseConditions(spec, targets);
    const text = formatConditions(c);
    expect(text).toBe(
      "board/up:loss=2.5%:burst=3:delay=40ms:jitter=5ms:rate=1mbit:queue=200ms:reorder=1%\n" +
        "board/down:loss=2.5%:burst=3:delay=40ms:jitter=5ms\n" +
        "broker:delay=75ms\n" +
        "viewer1:down\n" +
        "board:address=192.168.1.11:ifdown=off\n",
    );
    expect(parseConditions(text, targets)).toEqual(c);
  });

  it("merges a change over the conditions in force", () => {
    const now = parseConditions("board:delay=40ms:loss=1%\nviewer1:down", targets);
    const merged = mergeConditions(
      now,
      parseConditions("board/up:loss=5%\nviewer1:down=off", targets),
    );
    expect(merged.links.get("board")).toEqual({
      up: { delayMs: 40, loss: 0.05 },
      down: { delayMs: 40, loss: 0.01 },
    });
    expect(merged.links.get("viewer1")?.up.down).toBe(false);
    // The original is left alone.
    expect(now.links.get("board")?.up.loss).toBe(0.01);
  });
});

describe("the link emulator's parameters", () => {
  it("gives independent loss as p = L, r = 1 - L", () => {
    expect(gilbertElliott(0.1)).toEqual({ p: 0.1, r: 0.9 });
  });

  it("gives bursty loss the mean loss and mean burst length asked for", () => {
    const { p, r } = gilbertElliott(0.05, 4);
    expect(r).toBeCloseTo(0.25, 10);
    // Stationary bad-state probability p / (p + r) is the mean loss.
    expect(p / (p + r)).toBeCloseTo(0.05, 10);
    expect(1 / r).toBe(4);
  });

  it("turns a direction's conditions into camgw-linkem integers", () => {
    const c = parseConditions(
      "board:loss=1%:delay=40ms:jitter=2.5ms:rate=2mbit:queue=100ms:reorder=0.5%:down",
      targets,
    );
    const up = c.links.get("board")?.up ?? {};
    expect(linkemParams(up)).toBe(
      "ge_p=10000 ge_r=990000 rate=2000000 queue=100000 delay=40000 jitter=2500 reorder=5000 down=1",
    );
    // A queue in bytes is the time those bytes take at the rate: 50000 B at 1 Mbit/s = 0.4 s.
    const bytes = parseConditions("board:rate=1mbit:queue=50000b", targets).links.get("board")?.up;
    expect(linkemParams(bytes ?? {})).toBe("rate=1000000 queue=400000");
    // A rate cap without a queue gets the default 400 ms; nothing at all is an empty set.
    expect(linkemParams({ rateBps: 500_000 })).toBe("rate=500000 queue=400000");
    expect(linkemParams({})).toBe("");
  });
});
