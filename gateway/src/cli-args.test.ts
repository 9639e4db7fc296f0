import { describe, expect, it } from "vitest";
import { closestOption, editDistance, parseOrExplain, parseRunArgs, runHelp } from "./cli-args.js";
import { loadConfig } from "./config.js";
import { ConfigError } from "./errors.js";

describe("camgw run's flags", () => {
  it("suggests the closest flag for a mistyped one", () => {
    expect(() => parseRunArgs(["--sise", "1920x1080"])).toThrow(
      /^camgw run: unknown option --sise; did you mean --size\? \(see `camgw run --help`\)$/,
    );
    expect(() => parseRunArgs(["--bitrat", "5"])).toThrow(/did you mean --bitrate\?/);
    expect(() => parseRunArgs(["--keep-wram"])).toThrow(/did you mean --keep-warm\?/);
  });

  it("suggests nothing for a flag that resembles none", () => {
    let message = "";
    try {
      parseRunArgs(["--frobnicate"]);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toBe("camgw run: unknown option --frobnicate (see `camgw run --help`)");
  });

  it("takes a negative number as the flag's value, so the range check names the flag", () => {
    const args = parseRunArgs(["--bitrate", "-5", "--fps", "30"]);
    expect(args.flags).toEqual({ bitrate: "-5", fps: "30" });
    expect(() => loadConfig({ flags: args.flags })).toThrow(
      "flag --bitrate: must be between 100 and 50000, got -5",
    );
    expect(parseRunArgs(["--mtu", "-1.5"]).flags.mtu).toBe("-1.5");
  });

  it("still reports a flag with no value at all", () => {
    expect(() => parseRunArgs(["--bitrate"])).toThrow(/--bitrate <value>' argument missing/);
    expect(() => parseRunArgs(["--bitrate", "--fps", "30"])).toThrow(/argument is ambiguous/);
  });

  it("gives the probe's flags the same help", () => {
    expect(() =>
      parseOrExplain(
        { args: ["--secnods", "3"], options: { seconds: { type: "string" } }, strict: true },
        "probe",
      ),
    ).toThrow(/camgw probe: unknown option --secnods; did you mean --seconds\?/);
  });

  it("lines up every description in --help in one column", () => {
    const rows = runHelp()
      .split("\n")
      .filter((l) => l.startsWith("  --"));
    expect(rows.length).toBeGreaterThan(20);
    // Where the description starts: after the flag and the spaces that pad it.
    const columns = new Set(rows.map((row) => /^ {2}\S+(?: \S+)* {2,}/.exec(row)?.[0].length));
    expect(columns.size).toBe(1);
    expect([...columns][0]).toBeGreaterThan(20);
    expect(rows.some((r) => r.startsWith("  --config, -c FILE "))).toBe(true);
  });
});

describe("closest option", () => {
  it("counts edits", () => {
    expect(editDistance("sise", "size")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("takes an unambiguous prefix, and nothing far away", () => {
    expect(closestOption("--max-view", ["max-viewers", "mtu"])).toBe("max-viewers");
    expect(closestOption("--zzzzzz", ["size", "fps"])).toBeUndefined();
  });
});
