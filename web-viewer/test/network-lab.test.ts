/**
 * The browser viewer through NAT: Debian's Chromium on a viewer site whose
 * network blocks all UDP (network lab, docs/firmware-sim.md), the gateway on
 * the virtual board on the lab's internet, signaling through the lab's
 * Mosquitto. The gateway is configured with STUN and TURN over TCP and the
 * lab's TURN REST secret; the page is given nothing, so it can only play if
 * it takes the ICE servers and TURN credentials the camera hands out
 * (docs/signaling.md, "ICE servers") and relays over TCP.
 */
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNetLab, type NetLab } from "../../firmware-sim/src/net/net-lab.js";
import { ensureLinkemBuilt } from "../../firmware-sim/src/net/test-support.js";
import { assertBuilt, type GatewayProcess } from "../../gateway/src/testing/gateway-process.js";
import { CHROMIUM_ARGS, openViewer, waitFor, waitPlaying } from "./harness/browser.js";
import { pairingFragment } from "../../gateway/src/auth/pairing-link.js";

describe("the viewer in Chromium behind a firewall that blocks UDP", () => {
  let lab: NetLab | undefined;
  let gateway: GatewayProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    assertBuilt();
    ensureLinkemBuilt();
    const l = await startNetLab({ boardNat: "none", viewerNats: ["udp-blocked"] });
    lab = l;
    const ice = l.gatewayIce(["stun", "turn-tcp"]);
    gateway = await l.startGateway({
      env: ice.env,
      args: [...ice.args, "--device-id", "cam1"],
    });
    browser = await chromium.launch({
      executablePath: await l.chromiumPath("viewer1"),
      args: CHROMIUM_ARGS,
      headless: true,
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await lab?.close();
  });

  it("plays through TURN over TCP with the servers the camera gave it", async () => {
    if (!lab || !gateway || !browser) throw new Error("the lab did not start");
    const port = new URL(gateway.httpUrl).port;
    const broker = lab.broker?.wsUrl ?? "";
    // Logged in as a person pairs a phone: a viewer account's pairing link.
    const pair = pairingFragment(await gateway.addViewer("chromium"));
    const url = `http://${lab.address("board")}:${port}/?device=cam1&broker=${encodeURIComponent(broker)}#${pair}`;
    const page = await openViewer(browser, url);
    const tile = await waitPlaying(page, "cam1", 60_000);
    expect(tile.frames).toBeGreaterThan(0);
    // The gateway's side of the pair: the browser reached it from its relay
    // on the lab's TURN server. The gateway names that remote "relay" when
    // the browser's relay candidate arrived before its first check, and
    // "prflx" when the check came first (RFC 8445 section 7.3.1.3): either
    // way the address is coturn's relay address, which only a relayed call
    // comes from.
    const g = gateway;
    const line = await waitFor("the gateway to log the path", () =>
      Promise.resolve(/\) connected: (.*)$/m.exec(g.output())?.[1]),
    );
    const relay = lab.turn?.address ?? "no TURN server";
    expect(line).toMatch(new RegExp(`-> (relay|prflx) ${relay.replaceAll(".", "\\.")}:`));
  }, 120_000);
});
