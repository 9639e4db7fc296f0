/**
 * The congestion lab's end-to-end tests each run in one network lab of
 * their own: the board behind a home NAT (eim) and `viewers` unNATed viewer
 * sites, no TURN server, closed when the file is done.
 */
import { afterAll, beforeAll } from "vitest";
import { startNetLab, type NetLab } from "../../../../firmware-sim/src/net/net-lab.js";
import { ensureLinkemBuilt } from "../../../../firmware-sim/src/net/test-support.js";
import { assertBuilt } from "../../testing/gateway-process.js";

/** Registers the file's lab; the returned function gives it to a test (throws if it did not start). */
export function labPerFile(viewers: number): () => NetLab {
  let lab: NetLab | undefined;
  beforeAll(async () => {
    assertBuilt();
    ensureLinkemBuilt();
    lab = await startNetLab({
      boardNat: "eim",
      viewerNats: Array.from({ length: viewers }, () => "none" as const),
      turn: false,
    });
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });
  return () => {
    if (!lab) throw new Error("the lab did not start");
    return lab;
  };
}
