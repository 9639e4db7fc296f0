/**
 * The discovery configs camgw publishes for Home Assistant (MQTT discovery,
 * home-assistant.io/integrations/mqtt, "MQTT Discovery"; one config per
 * entity, the single-component form): a camera fed with snapshots, sensors
 * read from the state JSON (ha-state.ts), and a connectivity sensor read from
 * the device's own retained status. All entities share one `device` block,
 * so Home Assistant groups them under one device, and every entity but the
 * connectivity sensor is unavailable while the status says offline: the
 * status the device publishes on connect, on clean stop, and the broker as
 * its will when the device vanishes (docs/signaling.md, "Connection
 * behaviour"). The connectivity sensor has no availability: it reads "off"
 * then, which is its point.
 */
import { discoveryTopic, haSnapshotTopic, haStateTopic, type HaComponent } from "./ha-topics.js";

export interface DiscoveryInput {
  /** Home Assistant's discovery prefix. */
  haPrefix: string;
  /** camgw's topic prefix. */
  prefix: string;
  deviceId: string;
  /** The device's status topic (<prefix>/<deviceId>/status). */
  statusTopic: string;
  /** The device's display name. */
  name: string;
  version: string;
  /** What makes the stream, for the device's model line: e.g. "sim (pi4)". */
  model: string;
}

/** One retained discovery message: the JSON config, or "" to remove the entity. */
export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: string;
  readonly component: HaComponent;
  readonly objectId: string;
}

interface EntitySpec {
  readonly component: HaComponent;
  readonly objectId: string;
  /** Its config, less what every entity has (unique_id, device, origin). */
  readonly config: (input: DiscoveryInput) => Record<string, unknown>;
}

/**
 * The status payload is camgw's JSON (`"online": true|false`): Home
 * Assistant's availability compares the template's result with
 * payload_available / payload_not_available.
 */
const ONLINE_TEMPLATE = "{{ 'online' if value_json.online else 'offline' }}";

function availability(input: DiscoveryInput): Record<string, unknown> {
  return {
    availability: [
      {
        topic: input.statusTopic,
        value_template: ONLINE_TEMPLATE,
        payload_available: "online",
        payload_not_available: "offline",
      },
    ],
  };
}

function stateSensor(
  key: string,
  extra: Record<string, unknown>,
): (input: DiscoveryInput) => Record<string, unknown> {
  return (input) => ({
    state_topic: haStateTopic(input.prefix, input.deviceId),
    value_template: `{{ value_json.${key} }}`,
    ...availability(input),
    ...extra,
  });
}

/** Every entity camgw can announce; the camera only when snapshots exist. */
export const ENTITIES: readonly EntitySpec[] = [
  {
    component: "camera",
    objectId: "snapshot",
    config: (input) => ({
      name: "Snapshot",
      // Raw JPEG bytes on the topic (no image_encoding: not base64).
      topic: haSnapshotTopic(input.prefix, input.deviceId),
      ...availability(input),
    }),
  },
  {
    component: "sensor",
    objectId: "viewers",
    config: stateSensor("viewers", {
      name: "Viewers",
      state_class: "measurement",
      icon: "mdi:eye",
    }),
  },
  {
    component: "sensor",
    objectId: "fps",
    config: stateSensor("fps", {
      name: "Frame rate",
      unit_of_measurement: "fps",
      state_class: "measurement",
      suggested_display_precision: 1,
      entity_category: "diagnostic",
    }),
  },
  {
    component: "sensor",
    objectId: "bitrate",
    config: stateSensor("bitrate", {
      name: "Bitrate sent",
      // Home Assistant's data_rate device class takes kbit/s (UnitOfDataRate).
      device_class: "data_rate",
      unit_of_measurement: "kbit/s",
      state_class: "measurement",
      suggested_display_precision: 0,
      entity_category: "diagnostic",
    }),
  },
  {
    component: "sensor",
    objectId: "encoder",
    config: (input) => ({
      ...stateSensor("encoder", {
        name: "Encoder",
        icon: "mdi:chip",
        entity_category: "diagnostic",
      })(input),
      json_attributes_topic: haStateTopic(input.prefix, input.deviceId),
      json_attributes_template:
        "{{ {'source': value_json.source, 'size': value_json.size} | tojson }}",
    }),
  },
  {
    component: "binary_sensor",
    objectId: "online",
    config: (input) => ({
      name: "Online",
      state_topic: input.statusTopic,
      value_template: "{{ 'ON' if value_json.online else 'OFF' }}",
      payload_on: "ON",
      payload_off: "OFF",
      device_class: "connectivity",
      entity_category: "diagnostic",
    }),
  },
];

/** unique_id of one entity: stable across restarts and renames, unique per device. */
export function uniqueId(deviceId: string, objectId: string): string {
  return `camgw_${deviceId}_${objectId}`;
}

/**
 * The discovery message of every entity: a config for those in `wanted`,
 * an empty payload (Home Assistant removes the entity, and the broker the
 * retained message) for the rest.
 */
export function discoveryMessages(
  input: DiscoveryInput,
  wanted: (spec: { component: HaComponent; objectId: string }) => boolean,
): DiscoveryMessage[] {
  const device = {
    identifiers: [`camgw_${input.deviceId}`],
    name: input.name,
    manufacturer: "camgw",
    model: input.model,
    sw_version: input.version,
  };
  const origin = { name: "camgw", sw_version: input.version };
  return ENTITIES.map((spec) => {
    const topic = discoveryTopic(input.haPrefix, spec.component, input.deviceId, spec.objectId);
    const base = { component: spec.component, objectId: spec.objectId, topic };
    if (!wanted(spec)) return { ...base, payload: "" };
    const config = {
      ...spec.config(input),
      unique_id: uniqueId(input.deviceId, spec.objectId),
      device,
      origin,
    };
    return { ...base, payload: JSON.stringify(config) };
  });
}
