/**
 * Home Assistant over the device's own MQTT connection (docs/home-assistant.md).
 * On every connect it publishes the retained discovery configs
 * (discovery.ts), or, when the feature is off, empty retained payloads on
 * the same topics: Home Assistant's documented way to remove entities, so
 * turning the feature off cleans up after an earlier start. While on, it
 * publishes the sensors' state (retained, every state interval and at once
 * on nudge()) and, when a snapshot function is given, a JPEG for the camera
 * entity every snapshot interval. Availability is the device's status
 * topic: online on connect, offline on clean stop (MqttLink.close) and as
 * the broker's will, so this class publishes nothing about it.
 */
import { EventEmitter } from "node:events";
import { discoveryMessages, type DiscoveryInput } from "./discovery.js";
import { haSnapshotTopic, haStateTopic } from "./ha-topics.js";
import type { HaStateReader } from "./ha-state.js";

export interface SnapshotRequest {
  /** Scale to this width (the height follows the aspect ratio). */
  readonly width: number;
}

/** A JPEG of the camera's latest frame (the snapshot feature; issue 11 item 4). */
export type SnapshotFn = (request: SnapshotRequest) => Promise<Buffer>;

/** What this class needs of the device's MQTT link (signaling/mqtt-link.ts). */
export interface HaPublishLink {
  readonly connected: boolean;
  on(event: "connected", listener: () => void): unknown;
  off(event: "connected", listener: () => void): unknown;
  publish(
    topic: string,
    payload: string | Buffer,
    options: { retain: boolean; qos: 0 | 1 },
  ): Promise<void>;
}

export interface HomeAssistantLinkOptions {
  link: HaPublishLink;
  /** false: only remove what an earlier start announced. */
  enabled: boolean;
  discovery: DiscoveryInput;
  state: HaStateReader;
  stateIntervalMs: number;
  /** null: no camera entity (and its config is removed). */
  snapshot: SnapshotFn | null;
  snapshotIntervalMs: number;
  snapshotWidth: number;
  /** Largest JPEG sent: the broker closes a connection that sends a bigger packet. */
  maxSnapshotBytes: number;
}

export interface HomeAssistantLinkEvents {
  /** Something to log: a snapshot or publish that failed. It keeps trying. */
  warning: [Error];
  /** The discovery configs (or their removal) were published on a connect. */
  announced: [];
}

const JPEG_SOI = Buffer.from([0xff, 0xd8, 0xff]);

export class HomeAssistantLink extends EventEmitter<HomeAssistantLinkEvents> {
  readonly #options: HomeAssistantLinkOptions;
  readonly #onConnected = (): void => void this.#announce();
  #stateTimer: NodeJS.Timeout | undefined;
  #snapshotTimer: NodeJS.Timeout | undefined;
  #snapshotBusy = false;
  /** The last warning of each kind of send, so a lasting problem is told once. */
  readonly #lastWarning = new Map<string, string>();
  #closed = false;

  constructor(options: HomeAssistantLinkOptions) {
    super();
    this.#options = options;
  }

  /** Publishes on every connect from now on (and now, when connected). */
  start(): void {
    const { link, enabled } = this.#options;
    link.on("connected", this.#onConnected);
    if (link.connected) void this.#announce();
    if (!enabled) return;
    this.#stateTimer = setInterval(() => void this.#publishState(), this.#options.stateIntervalMs);
    if (this.#options.snapshot) {
      this.#snapshotTimer = setInterval(
        () => void this.#publishSnapshot(),
        this.#options.snapshotIntervalMs,
      );
    }
  }

  /** Something the sensors show changed (a viewer came or went, the source): send the state now. */
  nudge(): void {
    if (this.#options.enabled) void this.#publishState();
  }

  /** Stops publishing; safe to call twice. The link's offline status marks the entities unavailable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#stateTimer);
    clearInterval(this.#snapshotTimer);
    this.#options.link.off("connected", this.#onConnected);
  }

  async #announce(): Promise<void> {
    const { enabled, snapshot, discovery, link } = this.#options;
    const messages = discoveryMessages(
      discovery,
      (e) => enabled && (e.component !== "camera" || snapshot !== null),
    );
    const stateTopic = haStateTopic(discovery.prefix, discovery.deviceId);
    const published = await this.#send("discovery", async () => {
      for (const m of messages) await link.publish(m.topic, m.payload, { retain: true, qos: 1 });
      // Off: the retained state goes too, so nothing of camgw stays on the broker.
      if (!enabled) await link.publish(stateTopic, "", { retain: true, qos: 1 });
    });
    if (!published) return;
    this.emit("announced");
    if (enabled) await this.#publishState();
  }

  async #publishState(): Promise<void> {
    const { link, state, discovery } = this.#options;
    if (this.#closed || !link.connected) return;
    const payload = JSON.stringify(state.read(performance.now()));
    const topic = haStateTopic(discovery.prefix, discovery.deviceId);
    await this.#send("state", () => link.publish(topic, payload, { retain: true, qos: 1 }));
  }

  async #publishSnapshot(): Promise<void> {
    const { link, snapshot, discovery, snapshotWidth, maxSnapshotBytes } = this.#options;
    // One at a time: a slow camera start must not pile up requests.
    if (this.#closed || !link.connected || !snapshot || this.#snapshotBusy) return;
    this.#snapshotBusy = true;
    try {
      await this.#send("snapshot", async () => {
        const jpeg = await snapshot({ width: snapshotWidth });
        if (jpeg.length < JPEG_SOI.length || !jpeg.subarray(0, 3).equals(JPEG_SOI)) {
          throw new Error("the snapshot is not a JPEG (no FF D8 FF start of image)");
        }
        if (jpeg.length > maxSnapshotBytes) {
          throw new Error(
            `a snapshot of ${jpeg.length} bytes is over the ${maxSnapshotBytes} an MQTT packet may carry here: lower home-assistant-snapshot-width`,
          );
        }
        if (this.#closed) return;
        // QoS 0, not retained: a picture is worth nothing late, and none stays on the broker.
        await link.publish(haSnapshotTopic(discovery.prefix, discovery.deviceId), jpeg, {
          retain: false,
          qos: 0,
        });
      });
    } finally {
      this.#snapshotBusy = false;
    }
  }

  /** Runs one send; a failure becomes one warning until it works again. True when it went. */
  async #send(kind: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      this.#lastWarning.delete(kind);
      return true;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (!this.#closed && error.message !== this.#lastWarning.get(kind)) {
        this.#lastWarning.set(kind, error.message);
        this.emit("warning", error);
      }
      return false;
    }
  }
}
