import { describe, expect, it } from "vitest";
import { TypedEmitter } from "./typed-emitter.js";

class Thing extends TypedEmitter<{ data: [n: number, s: string]; error: [e: Error] }> {}

describe("TypedEmitter", () => {
  it("calls listeners in order with the emitted arguments", () => {
    const thing = new Thing();
    const seen: string[] = [];
    thing.on("data", (n, s) => seen.push(`a${n}${s}`)).on("data", (n, s) => seen.push(`b${n}${s}`));
    expect(thing.emit("data", 1, "x")).toBe(true);
    expect(seen).toEqual(["a1x", "b1x"]);
  });

  it("calls a once listener a single time and off removes a listener", () => {
    const thing = new Thing();
    let once = 0;
    let on = 0;
    const listener = (): void => {
      on += 1;
    };
    thing.once("data", () => (once += 1)).on("data", listener);
    thing.emit("data", 1, "");
    thing.off("data", listener);
    thing.emit("data", 2, "");
    expect([once, on]).toEqual([1, 1]);
    expect(thing.listenerCount("data")).toBe(0);
  });

  it("drops an error event nobody listens to instead of throwing", () => {
    expect(new Thing().emit("error", new Error("x"))).toBe(false);
  });
});
