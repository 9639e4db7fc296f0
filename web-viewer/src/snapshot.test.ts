import { describe, expect, it } from "vitest";
import { snapshotFileName } from "./snapshot.js";

describe("snapshotFileName", () => {
  it("names the PNG after the camera and the UTC time, with no characters Windows refuses", () => {
    const name = snapshotFileName("porch", new Date(Date.UTC(2026, 10, 21, 15, 4, 5, 123)));
    expect(name).toBe("porch-2026-11-21T15-04-05-123Z.png");
  });
});
