/**
 * The device's own broker account: username `camgw-device-<deviceId>` and a
 * random password kept in `device.json` in the state directory (0600). The
 * device needs the password itself to log in, so this one file holds a
 * secret in clear; the embedded broker and `camgw broker-config` derive
 * everything else from it. Made on first use; delete the file to rotate it
 * (docs/security.md).
 */
import { StateError } from "../errors.js";
import { randomSecret } from "./secret-hash.js";
import { readStateFile, withStateLock, writeStateFile } from "./state-dir.js";

export const DEVICE_FILE = "device.json";
const LOCK_FILE = "device.lock";

export interface DeviceCredential {
  username: string;
  password: string;
}

/** The MQTT username of device `deviceId`; the client id it connects with is the same. */
export function deviceUsername(deviceId: string): string {
  return `camgw-device-${deviceId}`;
}

function parse(text: string, path: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new StateError(`${path} is not JSON`, { path });
  }
  const password = (doc as { password?: unknown } | null)?.password;
  if (typeof password !== "string" || password.length < 16) {
    throw new StateError(`${path} holds no device password`, { path });
  }
  return password;
}

/** The device's credential, made (and saved) on first use. */
export async function deviceCredential(dir: string, deviceId: string): Promise<DeviceCredential> {
  const path = `${dir}/${DEVICE_FILE}`;
  const existing = await readStateFile(dir, DEVICE_FILE);
  if (existing !== undefined)
    return { username: deviceUsername(deviceId), password: parse(existing, path) };
  const password = await withStateLock(dir, LOCK_FILE, async () => {
    // Another command may have made it while we waited for the lock.
    const raced = await readStateFile(dir, DEVICE_FILE);
    if (raced !== undefined) return parse(raced, path);
    const fresh = randomSecret(24);
    await writeStateFile(dir, DEVICE_FILE, JSON.stringify({ version: 1, password: fresh }) + "\n");
    return fresh;
  });
  return { username: deviceUsername(deviceId), password };
}
