/**
 * A bare MQTT client playing a viewer that can send anything (broken JSON,
 * floods) and records what the device replies on tx/<viewerId>.
 */
import mqtt, { type MqttClient } from "mqtt";

export class RawViewer {
  readonly received: Record<string, unknown>[] = [];
  readonly #waiters: (() => void)[] = [];
  #read = 0;

  private constructor(
    readonly client: MqttClient,
    readonly rx: string,
  ) {
    client.on("message", (_topic, payload) => {
      this.received.push(JSON.parse(payload.toString("utf8")) as Record<string, unknown>);
      for (const wake of this.#waiters.splice(0)) wake();
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
  async next(timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length <= this.#read) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message on tx within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const message = this.received[this.#read];
    this.#read += 1;
    if (!message) throw new Error("unreachable");
    return message;
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
