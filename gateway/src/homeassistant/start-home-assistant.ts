/**
 * App wiring of Home Assistant discovery (docs/home-assistant.md): when the
 * feature is on, a HomeAssistantLink on the device's MQTT link, its sensors
 * read from the /metrics samples and nudged when viewers or the source
 * change; when it is off, a one-time removal of what an earlier start
 * announced (announcement-record.ts), and nothing at all otherwise.
 */
import { MAX_PACKET_BYTES } from "../auth/mosquitto-files.js";
import type { Config } from "../config.js";
import type { Sample } from "../http/metrics.js";
import type { Logger } from "../logger.js";
import type { H264Source } from "../media/source.js";
import type { MqttLink } from "../signaling/mqtt-link.js";
import { statusTopic } from "../signaling/topics.js";
import { VERSION } from "../version.js";
import type { SessionManager } from "../webrtc/session-manager.js";
import {
  forgetAnnouncement,
  readAnnouncement,
  recordAnnouncement,
  sameTopics,
  type AnnouncementRecord,
} from "./announcement-record.js";
import { HaStateReader } from "./ha-state.js";
import { haSnapshotTopic } from "./ha-topics.js";
import { HomeAssistantLink, type SnapshotFn } from "./home-assistant-link.js";

export interface HomeAssistantDeps {
  config: Config;
  log: Logger;
  link: MqttLink | null;
  source: H264Source;
  sessions: Pick<SessionManager, "on">;
  /** The /metrics collector. */
  samples: () => Sample[];
  snapshot: SnapshotFn | null;
  stateDir: string;
}

/** Starts what the config asks for; null when there is nothing to do. Close it before the link. */
export async function startHomeAssistant(
  deps: HomeAssistantDeps,
): Promise<HomeAssistantLink | null> {
  const { config, log, link, source, snapshot, stateDir } = deps;
  if (!link) return null;
  const enabled = config["home-assistant"];
  const here: AnnouncementRecord = {
    haPrefix: config["home-assistant-prefix"],
    prefix: config.prefix,
    deviceId: config["device-id"],
  };
  const before = await readAnnouncement(stateDir);
  if (!enabled) {
    if (!before) return null;
    if (!sameTopics(before, here)) {
      // The device may publish only its own topics under the configured prefixes.
      log.warn(
        `Home Assistant: an earlier start announced device ${before.deviceId} under ${before.haPrefix}/; with discovery off and other prefixes or device id now, remove its retained ${before.haPrefix}/+/${before.deviceId}/+/config messages by hand (docs/home-assistant.md)`,
      );
      return null;
    }
  }
  const ha = new HomeAssistantLink({
    link,
    enabled,
    discovery: {
      haPrefix: here.haPrefix,
      prefix: here.prefix,
      deviceId: here.deviceId,
      statusTopic: statusTopic(here.prefix, here.deviceId),
      name: config.name,
      version: VERSION,
      model: `camgw (${source.name})`,
    },
    state: new HaStateReader({
      samples: deps.samples,
      encoder: () => source.encoder,
      source: () => ({
        state: source.status?.state ?? "live",
        size: `${source.info.width}x${source.info.height}`,
      }),
    }),
    stateIntervalMs: config["home-assistant-state-interval"] * 1000,
    snapshot,
    snapshotIntervalMs: config["home-assistant-snapshot-interval"] * 1000,
    snapshotWidth: config["home-assistant-snapshot-width"],
    // The packet limit less the PUBLISH header: fixed header (up to 5 bytes), topic length (2), topic.
    maxSnapshotBytes:
      MAX_PACKET_BYTES - 7 - Buffer.byteLength(haSnapshotTopic(here.prefix, here.deviceId)),
  });
  ha.on("warning", (err) => log.warn(`Home Assistant: ${err.message}`));
  if (enabled) {
    ha.once("announced", () => {
      log.info(
        `Home Assistant: announced under ${here.haPrefix}/ (${snapshot ? "camera and sensors" : "sensors; no camera entity without snapshots"})`,
      );
      if (!before || !sameTopics(before, here)) {
        recordAnnouncement(stateDir, here).catch((err: unknown) => {
          log.warn(`Home Assistant: ${(err as Error).message}`);
        });
      }
    });
    const nudge = (): void => ha.nudge();
    deps.sessions.on("connected", nudge);
    deps.sessions.on("ended", nudge);
    source.on("state", nudge);
  } else {
    ha.once("announced", () => {
      log.info(
        `Home Assistant: discovery is off; removed the entities announced under ${here.haPrefix}/`,
      );
      ha.close();
      forgetAnnouncement(stateDir).catch((err: unknown) => {
        log.warn(`Home Assistant: ${(err as Error).message}`);
      });
    });
  }
  ha.start();
  return ha;
}
