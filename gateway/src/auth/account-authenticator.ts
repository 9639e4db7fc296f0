/**
 * Who an MQTT login on the embedded broker is: the device (its own secret,
 * device-credential.ts), a viewer (its account, account-store.ts), or nobody
 * (refused: CONNACK 5 without a username, 4 for a wrong one or a wrong
 * password). What each may then do is broker-acl.ts.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { BrokerAuthenticator, RefusalCode } from "../signaling/broker-auth.js";
import type { AccountStore } from "./account-store.js";
import type { AclScope, Principal } from "./broker-acl.js";
import type { DeviceCredential } from "./device-credential.js";

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

export function accountAuthenticator(
  scope: AclScope,
  device: DeviceCredential,
  accounts: AccountStore,
): BrokerAuthenticator {
  const deviceDigest = digest(device.password);
  return {
    scope,
    async authenticate(
      username,
      password,
    ): Promise<Principal | { refused: RefusalCode; reason: string }> {
      if (username === undefined || username === "") {
        return { refused: 5, reason: "anonymous login refused" };
      }
      if (username === device.username) {
        // Fixed-length digests: the comparison takes the same time whatever matches.
        if (password !== undefined && timingSafeEqual(digest(password), deviceDigest)) {
          return { kind: "device", deviceId: scope.deviceId, username };
        }
        return { refused: 4, reason: `wrong password for ${username}` };
      }
      if (password !== undefined && (await accounts.verifyPassword(username, password))) {
        return { kind: "viewer", name: username };
      }
      return {
        refused: 4,
        reason: accounts.has(username)
          ? `wrong password for viewer ${username}`
          : `no viewer named ${username}`,
      };
    },
  };
}
