import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NativeDeviceError } from "./errors.js";
import { notifySystemd, systemdWatchdogMs } from "./systemd-notify.js";
import { listenForNotifications, type NotifySocket } from "./testing/notify-socket.js";

let listener: NotifySocket | undefined;
let dir: string | undefined;

afterEach(() => {
  listener?.close();
  listener = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function listen(path: string): Promise<() => Promise<string>> {
  listener = await listenForNotifications(path);
  const socket = listener;
  return () => socket.next();
}

describe("notifySystemd (sd_notify)", () => {
  it("sends the fields as one datagram to a socket file, one KEY=VALUE per line", async () => {
    dir = mkdtempSync(join(tmpdir(), "camgw-notify-"));
    const path = join(dir, "notify");
    const received = await listen(path);
    expect(
      notifySystemd({ READY: "1", STATUS: "streaming to 2 viewers" }, { NOTIFY_SOCKET: path }),
    ).toBe(true);
    expect(await received()).toBe("READY=1\nSTATUS=streaming to 2 viewers");
    notifySystemd({ WATCHDOG: "1" }, { NOTIFY_SOCKET: path });
    expect(await received()).toBe("WATCHDOG=1");
  });

  it("reaches an abstract socket, which systemd writes with a leading @", async () => {
    const path = `@camgw-notify-test-${process.pid}`;
    const received = await listen(path);
    notifySystemd({ STOPPING: "1" }, { NOTIFY_SOCKET: path });
    expect(await received()).toBe("STOPPING=1");
  });

  it("does nothing without NOTIFY_SOCKET (not started by a Type=notify unit)", () => {
    expect(notifySystemd({ READY: "1" }, {})).toBe(false);
  });

  it("refuses a value that would smuggle in another field", () => {
    expect(() => notifySystemd({ STATUS: "ok\nREADY=1" }, { NOTIFY_SOCKET: "/nowhere" })).toThrow(
      TypeError,
    );
  });

  it("names sendto and the errno when nobody listens at the socket", () => {
    dir = mkdtempSync(join(tmpdir(), "camgw-notify-"));
    const path = join(dir, "absent");
    let error: unknown;
    try {
      notifySystemd({ READY: "1" }, { NOTIFY_SOCKET: path });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NativeDeviceError);
    expect((error as NativeDeviceError).context).toMatchObject({ ioctl: "sendto", device: path });
    expect((error as NativeDeviceError).context.errnoName).toBe("ENOENT");
  });

  it("reads the watchdog period from WATCHDOG_USEC, and none when it is absent or bad", () => {
    expect(systemdWatchdogMs({ WATCHDOG_USEC: "30000000" })).toBe(30_000);
    expect(systemdWatchdogMs({})).toBeNull();
    expect(systemdWatchdogMs({ WATCHDOG_USEC: "0" })).toBeNull();
    expect(systemdWatchdogMs({ WATCHDOG_USEC: "soon" })).toBeNull();
  });
});
