/**
 * Who may do what on the signaling broker (docs/security.md, "What each
 * credential allows"): the topic ACL of signaling v1 ("Topics"), tightened.
 * Pure rules, used by the embedded broker's hooks (signaling/broker-auth.ts);
 * mosquitto-files.ts writes the same rules in Mosquitto's ACL syntax.
 *
 * - the device D may publish `<prefix>/D/status` (retained) and
 *   `<prefix>/D/tx/<viewer>`, and read `<prefix>/D/rx/+` and its own status;
 * - a viewer V may publish `<prefix>/<device>/rx/V` (never retained), and
 *   read `<prefix>/<device>/tx/V` and `<prefix>/+/status`;
 * - nobody reads `#`, `+/#`, `$SYS` or anyone else's topics, and only the
 *   device keeps a retained message (its status).
 *
 * With Home Assistant (docs/home-assistant.md, homeassistant/ha-topics.ts):
 * - the device D may also publish its own discovery configs
 *   `<ha prefix>/<component>/D/<object>/config` (retained, also to remove
 *   them), `<prefix>/D/ha/state` (retained) and `<prefix>/D/ha/snapshot`;
 * - the one account named for Home Assistant may read everything under
 *   `<ha prefix>/` and `<prefix>/D/ha/`, and publish Home Assistant's own
 *   birth and will, `<ha prefix>/status`; other viewers get none of it.
 */
import { haBirthTopic, HA_LEVEL, isOwnDiscoveryTopic } from "../homeassistant/ha-topics.js";

export type Principal =
  | { readonly kind: "device"; readonly deviceId: string; readonly username: string }
  | { readonly kind: "viewer"; readonly name: string };

export interface AclScope {
  readonly prefix: string;
  /** The one device this broker serves. */
  readonly deviceId: string;
  /** Home Assistant's topics: its discovery prefix, and the account it logs in with (null: none may read). */
  readonly homeAssistant?: { readonly prefix: string; readonly account: string | null };
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The topic's levels after the prefix, or undefined when it is not under the prefix. */
function levels(scope: AclScope, topic: string): string[] | undefined {
  const head = `${scope.prefix}/`;
  if (!topic.startsWith(head)) return undefined;
  return topic.slice(head.length).split("/");
}

/** Why `principal` may not publish to `topic`; undefined when it may. */
export function publishRefusal(
  scope: AclScope,
  principal: Principal,
  topic: string,
  retain: boolean,
): string | undefined {
  const parts = levels(scope, topic);
  const ha = scope.homeAssistant;
  if (principal.kind === "device") {
    if (principal.deviceId === scope.deviceId && ha !== undefined) {
      if (isOwnDiscoveryTopic(ha.prefix, principal.deviceId, topic)) return undefined;
      if (parts?.length === 3 && parts[0] === principal.deviceId && parts[1] === HA_LEVEL) {
        if (parts[2] === "state") return undefined;
        if (parts[2] === "snapshot") return retain ? "a snapshot may not be retained" : undefined;
      }
    }
    if (parts?.[0] !== principal.deviceId || principal.deviceId !== scope.deviceId) {
      return `device ${principal.deviceId} may publish only under ${scope.prefix}/${principal.deviceId}/`;
    }
    if (parts.length === 2 && parts[1] === "status") return undefined;
    if (parts.length === 3 && parts[1] === "tx" && ID.test(parts[2] ?? "")) {
      return retain ? "a tx message may not be retained" : undefined;
    }
    return `device ${principal.deviceId} may not publish to ${topic}`;
  }
  if (isHomeAssistant(scope, principal) && topic === haBirthTopic(ha?.prefix ?? "")) {
    return undefined;
  }
  const ok =
    parts?.length === 3 &&
    ID.test(parts[0] ?? "") &&
    parts[1] === "rx" &&
    parts[2] === principal.name;
  if (!ok)
    return `viewer ${principal.name} may publish only to ${scope.prefix}/<device>/rx/${principal.name}`;
  return retain ? "only the device keeps retained messages" : undefined;
}

/** Whether `principal` may subscribe to `filter` (wildcards as written, MQTT 3.1.1 4.7). */
export function maySubscribe(scope: AclScope, principal: Principal, filter: string): boolean {
  const parts = levels(scope, filter);
  if (isHomeAssistant(scope, principal)) {
    if (filter.startsWith(`${scope.homeAssistant?.prefix ?? ""}/`)) return true;
    const [device, level] = parts ?? [];
    if (
      (device === scope.deviceId || device === "+") &&
      level === HA_LEVEL &&
      parts?.length !== 2
    ) {
      return true;
    }
  }
  if (parts?.length === 2 && parts[1] === "status") {
    // Its own status for the device (it watches it, link-status-guard); every device's for a viewer.
    if (principal.kind === "device") return parts[0] === principal.deviceId;
    return parts[0] === "+" || ID.test(parts[0] ?? "");
  }
  if (parts?.length !== 3) return false;
  const [device = "", direction, who = ""] = parts;
  if (principal.kind === "device") {
    return (
      device === principal.deviceId &&
      principal.deviceId === scope.deviceId &&
      direction === "rx" &&
      (who === "+" || ID.test(who))
    );
  }
  return (device === "+" || ID.test(device)) && direction === "tx" && who === principal.name;
}

/** Whether `principal` is the account named for Home Assistant. */
function isHomeAssistant(scope: AclScope, principal: Principal): boolean {
  const account = scope.homeAssistant?.account;
  return principal.kind === "viewer" && account !== null && principal.name === account;
}

/**
 * A client id belongs to its username: equal to it, or `<username>.<anything>`
 * (several tabs of one viewer). The separator is a character no username
 * has, so the part before it names exactly one account: nobody can connect
 * with the device's client id, or another viewer's (`a.x` is never viewer
 * `a-b`'s), and push that client off (MQTT 3.1.1 3.1.4: a second CONNECT
 * with the same client id ends the first session).
 */
export function clientIdAllowed(username: string, clientId: string): boolean {
  return clientId === username || clientId.startsWith(`${username}.`);
}
