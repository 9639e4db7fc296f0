import { afterAll, describe, expect, it } from "vitest";
import {
  listenForNotifications,
  type NotifySocket,
} from "../../native/lib/testing/notify-socket.js";
import { startGateway, type GatewayProcess } from "./testing/gateway-process.js";

/**
 * `camgw run` as systemd starts it from deploy/package/camgw.service
 * (Type=notify, WatchdogSec): the environment systemd sets, and the socket
 * systemd listens on, played by a test listener.
 */
describe("camgw run under a Type=notify unit with a watchdog", () => {
  let socket: NotifySocket | undefined;
  let gw: GatewayProcess | undefined;

  afterAll(async () => {
    await gw?.stop();
    socket?.close();
  });

  it("says ready once it serves, pings the watchdog while it runs, and says stopping on SIGTERM", async () => {
    const path = `@camgw-e2e-notify-${process.pid}`;
    socket = await listenForNotifications(path);
    gw = await startGateway({
      args: ["--device-id", "notified"],
      env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: "1000000" },
    });
    expect(await socket.next()).toBe("READY=1\nSTATUS=serving camgw/notified");
    // WatchdogSec=1s: a ping every half period.
    expect(await socket.next()).toBe("WATCHDOG=1");
    expect(await socket.next()).toBe("WATCHDOG=1");
    expect(await gw.stop()).toBe(0);
    let last = await socket.next();
    while (last === "WATCHDOG=1") last = await socket.next();
    expect(last).toBe("STOPPING=1");
  });
});
