/**
 * systemd's service notification protocol (sd_notify(3)): how a Type=notify
 * service says it is ready, stopping, and (with WatchdogSec) still alive.
 * Node's dgram cannot send on AF_UNIX, so the datagram goes through the
 * addon; everything else (the environment, the interval) is read here.
 */
import { loadBinding } from "./binding.js";
import { callNative } from "./errors.js";

/**
 * Sends `fields` (e.g. `{ READY: "1", STATUS: "streaming" }`) to
 * $NOTIFY_SOCKET. Returns false when systemd did not ask for notifications
 * (no NOTIFY_SOCKET: started by hand, or by a unit that is not Type=notify);
 * throws NativeDeviceError when the socket refuses the datagram.
 */
export function notifySystemd(
  fields: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === "") return false;
  const lines = Object.entries(fields).map(([key, value]) => {
    // One KEY=VALUE per line: a newline inside a value would forge a field.
    if (!/^[A-Z_]+$/.test(key) || /[\n\0]/.test(value))
      throw new TypeError(`not a sd_notify field: ${JSON.stringify(key)}`);
    return `${key}=${value}`;
  });
  callNative(() => loadBinding().sdNotify(socket, lines.join("\n")));
  return true;
}

/**
 * The watchdog period systemd expects pings within (WatchdogSec= reaches the
 * service as WATCHDOG_USEC), in ms; null when there is no watchdog.
 * WATCHDOG_PID is not checked: on the virtual board the gateway runs as the
 * main process's child, and the unit allows that with NotifyAccess=all.
 */
export function systemdWatchdogMs(env: NodeJS.ProcessEnv = process.env): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  return usec / 1000;
}
