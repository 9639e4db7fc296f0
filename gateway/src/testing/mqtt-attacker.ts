/**
 * An MQTT client that tries what issue 10's attacker tried, and reports what
 * the broker did: refused the login (its CONNACK code), refused a
 * subscription (SUBACK 0x80), closed the connection, or let it through.
 * Used by the security tests against the embedded broker and Mosquitto.
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

/** Connects once (no reconnect); resolves with the CONNACK refusal code, or the client. */
export async function tryConnect(
  url: string,
  options: IClientOptions = {},
): Promise<{ refused: number } | { client: MqttClient }> {
  try {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...options,
    });
    return { client };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "number") return { refused: code };
    throw err;
  }
}

/** Connects and fails the test when the broker refuses. */
export async function connected(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const result = await tryConnect(url, options);
  if ("refused" in result)
    throw new Error(`the broker refused the login (CONNACK ${result.refused})`);
  return result.client;
}

/** The SUBACK code for each filter, one SUBSCRIBE each (128 = refused). */
export async function subscribeCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  const codes: number[] = [];
  for (const filter of filters) {
    try {
      const granted = await client.subscribeAsync(filter, { qos: 1 });
      codes.push(granted[0]?.qos ?? -1);
    } catch (err) {
      // MQTT.js 5 rejects a SUBACK that refuses every filter (ErrorWithSubackPacket).
      const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
      if (granted?.[0] === undefined) throw err;
      codes.push(granted[0]);
    }
  }
  return codes;
}

/** Messages a client receives from now on. */
export function collect(client: MqttClient): { topic: string; payload: string; retain: boolean }[] {
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  client.on("message", (topic, payload, packet) =>
    got.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  return got;
}

/**
 * Publishes and reports whether the connection survived: the embedded broker
 * closes a client whose publish it refuses (MQTT 3.1.1 has no negative
 * PUBACK); Mosquitto acknowledges and drops it.
 */
export async function publishOutcome(
  client: MqttClient,
  topic: string,
  payload: string | Buffer,
  options: { retain?: boolean } = {},
): Promise<"closed" | "acknowledged"> {
  const closed = new Promise<"closed">((resolve) => client.once("close", () => resolve("closed")));
  const acked = client
    .publishAsync(topic, payload, { qos: 1, retain: options.retain === true })
    .then(
      () => "acknowledged" as const,
      () => "closed" as const,
    );
  return Promise.race([closed, acked]);
}
