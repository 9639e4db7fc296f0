import { describe, expect, it } from "vitest";
import { AddressWatch, type AddressChange } from "./address-watch.js";

describe("AddressWatch", () => {
  it("says which addresses came and went, and nothing when they stayed the same", () => {
    let now = ["10.0.0.5", "fd00::5"];
    const watch = new AddressWatch({ read: () => now, intervalMs: 60_000 });
    const changes: AddressChange[] = [];
    watch.on("changed", (c) => changes.push(c));
    watch.check();
    expect(changes).toEqual([]);
    // A DHCP renew to a new lease: the old IPv4 address goes, a new one comes.
    now = ["10.0.0.9", "fd00::5"];
    watch.check();
    expect(changes).toEqual([{ added: ["10.0.0.9"], removed: ["10.0.0.5"] }]);
    expect(watch.addresses.sort()).toEqual(["10.0.0.9", "fd00::5"]);
    // The link drops: everything goes; it comes back.
    now = [];
    watch.check();
    now = ["10.0.0.9"];
    watch.check();
    expect(changes.slice(1)).toEqual([
      { added: [], removed: ["10.0.0.9", "fd00::5"] },
      { added: ["10.0.0.9"], removed: [] },
    ]);
    watch.close();
    watch.close();
  });

  it("stops telling anyone once closed", () => {
    let now = ["10.0.0.5"];
    const watch = new AddressWatch({ read: () => now, intervalMs: 60_000 });
    let told = 0;
    watch.on("changed", () => told++);
    watch.close();
    now = ["10.0.0.6"];
    watch.check();
    expect(told).toBe(0);
  });
});
