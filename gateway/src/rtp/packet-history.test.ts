import { describe, expect, it } from "vitest";
import { PacketHistory } from "./packet-history.js";

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

describe("PacketHistory", () => {
  it("returns packets by sequence number across the 16-bit wrap and forgets old ones", () => {
    const h = new PacketHistory(4);
    const packets = [b(1), b(2), b(3), b(4), b(5)];
    h.add(65534, packets, 42);
    expect(h.get(65534)).toBeUndefined(); // overwritten by sequence 2 (slot 2)
    expect(h.get(65535)?.packet).toBe(packets[1]);
    expect(h.get(0)?.packet).toBe(packets[2]);
    expect(h.get(2)?.captureTimeUs).toBe(42);
    expect(h.get(3)).toBeUndefined();
  });

  it("rejects a capacity out of range", () => {
    expect(() => new PacketHistory(0)).toThrow(RangeError);
    expect(() => new PacketHistory(40_000)).toThrow(/history size/);
  });
});
