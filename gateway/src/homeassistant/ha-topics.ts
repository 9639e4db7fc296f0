/**
 * Where camgw talks to Home Assistant (docs/home-assistant.md): discovery
 * configs under Home Assistant's prefix, and the sensor state and snapshots
 * under camgw's own prefix, beside the device's status. Pure strings, no
 * imports: the broker's ACL (auth/broker-acl.ts) and the Mosquitto ACL
 * writer use the same layout.
 *
 *   <ha prefix>/<component>/<deviceId>/<objectId>/config   device, retained (HA MQTT discovery)
 *   <prefix>/<deviceId>/ha/state                           device, retained: the sensors' JSON
 *   <prefix>/<deviceId>/ha/snapshot                        device: JPEG bytes for the camera entity
 *   <ha prefix>/status                                     Home Assistant's own birth and will
 *
 * Home Assistant's discovery topic is
 * `<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`, node_id
 * and object_id of [a-zA-Z0-9_-] (home-assistant.io/integrations/mqtt,
 * "Discovery topic"); camgw's device ids already fit, and so does each
 * object id below. State and snapshots stay out of Home Assistant's prefix:
 * Home Assistant subscribes to all of it, and would get every JPEG twice.
 */

/** The Home Assistant platforms camgw announces. */
export type HaComponent = "camera" | "sensor" | "binary_sensor";

export const HA_COMPONENTS: readonly HaComponent[] = ["camera", "sensor", "binary_sensor"];

/** The level under camgw's device topics where the Home Assistant topics live. */
export const HA_LEVEL = "ha";

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function discoveryTopic(
  haPrefix: string,
  component: HaComponent,
  deviceId: string,
  objectId: string,
): string {
  return `${haPrefix}/${component}/${deviceId}/${objectId}/config`;
}

export function haStateTopic(prefix: string, deviceId: string): string {
  return `${prefix}/${deviceId}/${HA_LEVEL}/state`;
}

export function haSnapshotTopic(prefix: string, deviceId: string): string {
  return `${prefix}/${deviceId}/${HA_LEVEL}/snapshot`;
}

/** Home Assistant's birth and last will (its MQTT options, default `homeassistant/status`). */
export function haBirthTopic(haPrefix: string): string {
  return `${haPrefix}/status`;
}

/**
 * Whether `topic` is one of device `deviceId`'s discovery config topics
 * under `haPrefix`: a known component, its own node id, a valid object id.
 */
export function isOwnDiscoveryTopic(haPrefix: string, deviceId: string, topic: string): boolean {
  const head = `${haPrefix}/`;
  if (!topic.startsWith(head)) return false;
  const [component, node, object, config, ...rest] = topic.slice(head.length).split("/");
  return (
    rest.length === 0 &&
    HA_COMPONENTS.includes(component as HaComponent) &&
    node === deviceId &&
    ID.test(object ?? "") &&
    config === "config"
  );
}
