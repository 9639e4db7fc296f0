import { describe, expect, it } from "vitest";
import { keyAction } from "./keys.js";

const key = (
  k: string,
  mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {},
) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  target: null,
  ...mods,
});

describe("keyAction", () => {
  it("maps S, F, P and M (either case) to stats, full screen, snapshot and sound", () => {
    expect(keyAction(key("s"))).toBe("stats");
    expect(keyAction(key("M"))).toBe("sound");
    expect(keyAction(key("F"))).toBe("fullscreen");
    expect(keyAction(key("p"))).toBe("snapshot");
  });

  it("leaves browser shortcuts and other keys alone", () => {
    expect(keyAction(key("s", { ctrlKey: true }))).toBeUndefined();
    expect(keyAction(key("p", { metaKey: true }))).toBeUndefined();
    expect(keyAction(key("x"))).toBeUndefined();
  });
});
