/**
 * Home Assistant's side of MQTT discovery, as its MQTT integration does it
 * (a real MQTT.js client on the real broker): subscribe to the discovery
 * prefix, keep the newest config of every entity, read state and status.
 * Tests check what it saw with discovery-schema.ts.
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { waitUntil } from "../../testing/wait-until.js";
import { checkDiscoveryConfig, renderTemplate } from "./discovery-schema.js";

export interface SeenMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export class HomeAssistantClient {
  readonly seen: SeenMessage[] = [];

  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      this.seen.push({ topic, payload, retain: packet.retain });
    });
  }

  /** Connects (retrying while the gateway's account file catches up) and subscribes. */
  static async connect(
    url: string,
    options: IClientOptions,
    filters: string[],
  ): Promise<HomeAssistantClient> {
    let client: MqttClient | undefined;
    await waitUntil(async () => {
      try {
        client = await mqtt.connectAsync(url, {
          reconnectPeriod: 0,
          connectTimeout: 5000,
          ...options,
        });
        return true;
      } catch {
        return false;
      }
    });
    if (!client) throw new Error("no connection");
    const ha = new HomeAssistantClient(client);
    await client.subscribeAsync(filters, { qos: 1 });
    return ha;
  }

  /** The newest message on each topic under `prefix`/ that ends in /config. */
  configs(prefix: string): Map<string, SeenMessage> {
    const out = new Map<string, SeenMessage>();
    for (const m of this.seen) {
      if (m.topic.startsWith(`${prefix}/`) && m.topic.endsWith("/config")) out.set(m.topic, m);
    }
    return out;
  }

  /** The entities announced now: the newest config of each topic, less those removed (empty). */
  announced(prefix: string): Map<string, SeenMessage> {
    return new Map([...this.configs(prefix)].filter(([, m]) => m.payload.length > 0));
  }

  /** The newest message on `topic`. */
  last(topic: string): SeenMessage | undefined {
    return this.seen.filter((m) => m.topic === topic).at(-1);
  }

  /** Waits for a message on `topic` that `accept` takes (parsed as JSON), and returns it. */
  async waitForJson<T>(
    topic: string,
    accept: (json: T) => boolean,
    timeoutMs = 20_000,
  ): Promise<T> {
    let found: T | undefined;
    await waitUntil(() => {
      for (const m of this.seen) {
        if (m.topic !== topic || m.payload.length === 0) continue;
        const json = JSON.parse(m.payload.toString()) as T;
        if (accept(json)) {
          found = json;
          return true;
        }
      }
      return false;
    }, timeoutMs);
    return found as T;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export interface EntityCheck {
  component: string;
  objectId: string;
  config: Record<string, unknown>;
}

/**
 * Checks every config as Home Assistant would take it, and the rules camgw
 * keeps across them: unique ids unique, one device, availability on the
 * device's status with payloads its templates produce. Returns them parsed.
 */
export function checkAnnouncement(
  configs: Map<string, SeenMessage>,
  statusTopic: string,
  status: { online: string; offline: string },
): EntityCheck[] {
  const entities: EntityCheck[] = [];
  for (const [topic, message] of configs) {
    if (message.payload.length === 0) continue;
    const [, component = "", , objectId = ""] = topic.split("/").slice(-5);
    const config: unknown = JSON.parse(message.payload.toString());
    checkDiscoveryConfig(component, config);
    if (!message.retain) throw new Error(`${topic} was not retained`);
    entities.push({ component, objectId, config });
  }
  const ids = entities.map((e) => e.config.unique_id);
  if (new Set(ids).size !== ids.length) throw new Error(`unique_ids repeat: ${ids.join(", ")}`);
  const devices = new Set(entities.map((e) => JSON.stringify(e.config.device)));
  if (devices.size !== 1) throw new Error("the entities name different devices");
  for (const { config, objectId } of entities) {
    const availability = config.availability as Record<string, string>[] | undefined;
    if (!availability) continue;
    for (const a of availability) {
      if (a.topic !== statusTopic)
        throw new Error(`${objectId}: availability on ${a.topic}, not ${statusTopic}`);
      const template = a.value_template ?? "{{ value }}";
      if (renderTemplate(template, status.online) !== a.payload_available) {
        throw new Error(`${objectId}: the online status does not give payload_available`);
      }
      if (renderTemplate(template, status.offline) !== a.payload_not_available) {
        throw new Error(`${objectId}: the offline status does not give payload_not_available`);
      }
    }
  }
  return entities;
}
