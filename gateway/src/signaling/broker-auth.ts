/**
 * The embedded broker's gatekeeping as aedes hooks (aedes 1.2
 * `authenticate`, `authorizePublish`, `authorizeSubscribe`): who a client is
 * comes from a BrokerAuthenticator (the app's knows the device's secret and
 * the viewer accounts), what it may do from the rules in auth/broker-acl.ts.
 * The will counts as a publish (aedes checks it with authorizePublish when
 * it is sent), so nobody can leave a fake status as a will either.
 */
import type { AedesOptions, AuthenticateError, Client } from "aedes";
import {
  clientIdAllowed,
  maySubscribe,
  publishRefusal,
  type AclScope,
  type Principal,
} from "../auth/broker-acl.js";

/** CONNACK return codes (MQTT 3.1.1 3.2.2.3) a login can be refused with. */
export type RefusalCode = 2 | 3 | 4 | 5;

export interface BrokerAuthenticator {
  readonly scope: AclScope;
  /** Who these credentials belong to, or why they are refused. */
  authenticate(
    username: string | undefined,
    password: string | undefined,
  ): Promise<Principal | { refused: RefusalCode; reason: string }>;
}

export function principalName(principal: Principal): string {
  return principal.kind === "device" ? principal.username : principal.name;
}

type Hooks = Required<
  Pick<AedesOptions, "authenticate" | "authorizePublish" | "authorizeSubscribe">
>;

function refusal(code: RefusalCode, message: string): AuthenticateError {
  const error = new Error(message) as AuthenticateError;
  (error as { returnCode: number }).returnCode = code;
  return error;
}

/**
 * The hooks for `auth`. `principals` is where a logged-in client's principal
 * is kept (the broker uses it to find a viewer's clients when it is removed).
 */
export function aedesAuthHooks(
  auth: BrokerAuthenticator,
  principals: WeakMap<Client, Principal>,
  onRefused: (clientId: string, reason: string) => void,
): Hooks {
  return {
    authenticate: (client, username, password, done) => {
      auth.authenticate(username, password?.toString("utf8")).then(
        (result) => {
          if ("refused" in result) {
            onRefused(client.id, result.reason);
            done(refusal(result.refused, result.reason), false);
            return;
          }
          const name = principalName(result);
          if (!clientIdAllowed(name, client.id)) {
            const reason = `client id "${client.id}" does not belong to ${name} (use "${name}" or "${name}.<anything>")`;
            onRefused(client.id, reason);
            // 2: identifier rejected.
            done(refusal(2, reason), false);
            return;
          }
          principals.set(client, result);
          done(null, true);
        },
        (err: unknown) => {
          const reason = `login check failed: ${(err as Error).message}`;
          onRefused(client.id, reason);
          // 3: server unavailable; the client retries later.
          done(refusal(3, reason), false);
        },
      );
    },
    authorizePublish: (client, packet, callback) => {
      // aedes' own publishes ($SYS heartbeat) come without a client.
      if (client === null) {
        callback(null);
        return;
      }
      const principal = principals.get(client);
      const why =
        principal === undefined
          ? "not logged in"
          : publishRefusal(auth.scope, principal, packet.topic, packet.retain);
      // MQTT 3.1.1 cannot refuse one PUBLISH: aedes closes the connection.
      callback(why === undefined ? null : new Error(`publish to ${packet.topic} refused: ${why}`));
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const principal = principals.get(client);
      const ok = principal !== undefined && maySubscribe(auth.scope, principal, subscription.topic);
      // null: SUBACK 0x80 for this filter; the client stays connected.
      callback(null, ok ? subscription : null);
    },
  };
}
