/**
 * A bare MQTT client playing a viewer that can send anything (broken JSON,
 * floods) and records what the device replies on tx/<viewerId>.
 */
import mqtt, { type MqttClient } from "mqtt";
import { ReplyQueue } from "./reply-queue.js";

export class RawViewer {
  readonly #replies = new ReplyQueue("message on tx");
  readonly received = this.#replies.received;

  private constructor(
    readonly client: MqttClient,
    readonly rx: string,
  ) {
    client.on("message", (_topic, payload) => {
      this.#replies.push(payload.toString("utf8"));
    });
  }

  static async connect(
    url: string,
    prefix: string,
    deviceId: string,
    viewerId: string,
  ): Promise<RawViewer> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    await client.subscribeAsync(`${prefix}/${deviceId}/tx/${viewerId}`, { qos: 1 });
    return new RawViewer(client, `${prefix}/${deviceId}/rx/${viewerId}`);
  }

  async send(payload: string | Buffer | object): Promise<void> {
    const body =
      typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    await this.client.publishAsync(this.rx, body, { qos: 1 });
  }

  /** The next message on tx not yet read. */
  next(timeoutMs = 5000): Promise<Record<string, unknown>> {
    return this.#replies.next(timeoutMs);
  }

  /** Sends and returns the next reply. */
  async ask(payload: string | Buffer | object): Promise<Record<string, unknown>> {
    await this.send(payload);
    return this.next();
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
