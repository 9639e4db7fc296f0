import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../signaling/testing/tcp-proxy.js";
import { probeLogin, startGateway, type GatewayProcess } from "../testing/gateway-process.js";
import { runProbe } from "./probe.js";

/**
 * A broker restart that catches a viewer half-way through its first call
 * (`make soak`: a probe that started as Mosquitto went down ended with
 * "could not send the offer: Connection closed" and never played). A
 * forwarder between the probe and the gateway's broker cuts the probe's
 * connection exactly when it subscribes to its tx/ topic, the step before
 * the offer.
 */
describe("a viewer that loses the broker before its first answer", () => {
  let gw: GatewayProcess;
  let proxy: TcpProxy;

  beforeAll(async () => {
    gw = await startGateway({ args: ["--device-id", "porch", "--size", "640x480"] });
    proxy = await TcpProxy.start(Number(new URL(gw.mqttUrl ?? "").port));
  });

  afterAll(async () => {
    await proxy.close();
    await gw.stop();
  });

  it("calls again once the broker is back, and plays", async () => {
    proxy.cutOnceOn("porch/tx/");
    const report = await runProbe({
      ...probeLogin(gw),
      broker: `mqtt://127.0.0.1:${proxy.port}`,
      deviceId: "porch",
      seconds: 20,
      untilFirstFrame: true,
    });
    expect(proxy.cuts).toBe(1);
    expect(report.ended ?? "").not.toMatch(/could not send the offer/);
    expect(report.video).toBe(true);
  });

  it("still ends at once when the device refuses the call", async () => {
    const report = await runProbe({
      ...probeLogin(gw),
      broker: `mqtt://127.0.0.1:${proxy.port}`,
      deviceId: "porch",
      stream: "no-such-stream",
      seconds: 20,
    });
    expect(report.video).toBe(false);
    expect(report.ended).toMatch(/not-found|stream/);
  });
});
