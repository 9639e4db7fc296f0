/**
 * A device on an MQTT broker for tests of the viewer side and the link: a
 * SignalingDispatcher on a session host, fed by an MqttLink, wired as the app
 * wires them (gateway/src/app.ts).
 */
import { SignalingDispatcher, type SignalingDispatcherOptions } from "../dispatcher.js";
import { DEFAULT_STREAM } from "../messages.js";
import { MqttLink, type MqttLinkOptions } from "../mqtt-link.js";
import type { SessionHost } from "../session-host.js";

export const STATUS = {
  name: "Porch",
  version: "0.1.0",
  streams: [{ id: DEFAULT_STREAM, codec: "H264", width: 1280, height: 720, fps: 30 }],
};

export interface MqttDeviceOptions
  extends
    Omit<MqttLinkOptions, "sink" | "status" | "deviceId">,
    Omit<SignalingDispatcherOptions, "host"> {
  host: SessionHost;
  deviceId?: string;
  status?: MqttLinkOptions["status"];
}

export class MqttDevice {
  readonly dispatcher: SignalingDispatcher;
  readonly link: MqttLink;

  constructor(options: MqttDeviceOptions) {
    const { host, offerRate, errorReplyRate, ...link } = options;
    this.dispatcher = new SignalingDispatcher({
      host,
      ...(offerRate ? { offerRate } : {}),
      ...(errorReplyRate ? { errorReplyRate } : {}),
    });
    this.link = new MqttLink({
      deviceId: "porch",
      status: STATUS,
      ...link,
      sink: this.dispatcher,
    });
  }

  /** Connects and waits for the first connection (rejects as waitConnected() does). */
  async start(timeoutMs?: number): Promise<this> {
    this.link.connect();
    await this.link.waitConnected(timeoutMs);
    return this;
  }

  /** As the app does: the dispatcher stops answering, then the link says offline and disconnects. */
  async close(): Promise<void> {
    this.dispatcher.close();
    await this.link.close();
  }
}
