import { afterEach, describe, expect, it, vi } from "vitest";
import { parseUpArgs, up } from "./up.js";

describe("firmware-sim up", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("boots a board whose headless viewer sees stamped video, then exits", async () => {
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    const code = await up([
      "--viewers",
      "1",
      "--seconds",
      "2",
      "--exit",
      "--",
      "--http-port",
      "0",
      "--mqtt-port",
      "0",
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/virtual pi4 board up/);
    expect(out).toMatch(/open http:\/\/127\.0\.0\.1:\d+\/ in a browser/);
    expect(out).toMatch(/video received/);
    expect(out).toMatch(/glass-to-glass +p50 [\d.]+ ms/);
  });

  it("refuses bad arguments with a message naming them", () => {
    expect(() => parseUpArgs(["--profile", "pi3"])).toThrow(/unknown profile "pi3"/);
    expect(() => parseUpArgs(["--viewers", "many"])).toThrow(/--viewers takes a whole number/);
    expect(() => parseUpArgs(["--bogus"])).toThrow(/firmware-sim up: Unknown option '--bogus'/);
    expect(parseUpArgs(["--viewers", "3", "--", "--fps", "15"])).toMatchObject({
      viewers: 3,
      gatewayArgs: ["--fps", "15"],
    });
  });
});
