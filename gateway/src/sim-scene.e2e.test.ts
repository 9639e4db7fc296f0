import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProbe } from "./probe/probe.js";
import { probeLogin, startGateway, type GatewayProcess } from "./testing/gateway-process.js";

async function counter(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}metrics`)).text();
  const value = new RegExp(`^camgw_${name} (\\S+)$`, "m").exec(text)?.[1];
  if (value === undefined) throw new Error(`/metrics has no camgw_${name}`);
  return Number(value);
}

/**
 * `camgw run --source sim --sim-scene realistic` as a user types it (the
 * flag reaches the virtual board through firmware-sim exec), on the Pi 5
 * board, so the addon's own x264 encodes. The bitrate is held fixed
 * (`--no-adapt-bitrate`): this measures x264's rate control against
 * what was asked, and the probe's JS receiver stamps arrivals late when its
 * event loop stalls, which a following encoder would rightly read as delay
 * (encoder-follows.test.ts covers following).
 */
describe("camgw run --sim-scene realistic", () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await startGateway({
      sim: null,
      args: [
        "--source",
        "sim",
        "--sim-profile",
        "pi5",
        "--sim-scene",
        "realistic",
        "--device-id",
        "street",
        "--bitrate",
        "2000",
        "--no-adapt-bitrate",
      ],
    });
  });

  afterAll(async () => {
    await gw.stop();
  });

  it("streams at close to the bitrate asked, with every frame's stamp readable", async () => {
    const watching = runProbe({
      ...probeLogin(gw),
      deviceId: "street",
      seconds: 7,
    });
    // Bytes per packetized frame at the nominal 30 fps, once x264 has settled:
    // a property of the picture, not of this machine's speed.
    await new Promise((r) => setTimeout(r, 3000));
    const bytes0 = await counter(gw.httpUrl, "bytes_sent_total");
    const frames0 = await counter(gw.httpUrl, "frames_packetized_total");
    await new Promise((r) => setTimeout(r, 3000));
    const bytes = (await counter(gw.httpUrl, "bytes_sent_total")) - bytes0;
    const frames = (await counter(gw.httpUrl, "frames_packetized_total")) - frames0;
    const kbps = (bytes * 8 * 30) / frames / 1000;
    expect(frames).toBeGreaterThan(30);
    // The bars give x264 ~900 kbit/s of content at this setting (make bench).
    expect(kbps).toBeGreaterThan(0.85 * 2000);
    const report = await watching;
    expect(report.video).toBe(true);
    expect(report.glassToGlassMs?.samples).toBe(report.frames);
  });
});
