/**
 * A check of discovery configs against what Home Assistant's MQTT
 * integration documents and validates (home-assistant.io/integrations/mqtt,
 * "MQTT Discovery"; camera.mqtt, sensor.mqtt, binary_sensor.mqtt
 * "Configuration Variables"; its voluptuous schemas drop unknown keys
 * silently, so here an unknown key is an error: a typo would otherwise be
 * lost without a word). Written from the docs for the tests; it covers the
 * keys camgw uses, not every option Home Assistant has.
 */
import { HA_COMPONENTS, type HaComponent } from "../ha-topics.js";

type Json = Record<string, unknown>;

const COMMON = new Set([
  "name",
  "unique_id",
  "device",
  "origin",
  "availability",
  "availability_mode",
  "entity_category",
  "icon",
  "json_attributes_topic",
  "json_attributes_template",
  "enabled_by_default",
  "qos",
]);

const BY_COMPONENT: Record<HaComponent, Set<string>> = {
  camera: new Set(["topic", "image_encoding"]),
  sensor: new Set([
    "state_topic",
    "value_template",
    "device_class",
    "unit_of_measurement",
    "state_class",
    "suggested_display_precision",
    "expire_after",
    "force_update",
  ]),
  binary_sensor: new Set([
    "state_topic",
    "value_template",
    "device_class",
    "payload_on",
    "payload_off",
    "expire_after",
    "force_update",
    "off_delay",
  ]),
};

/** Home Assistant's data_rate units (UnitOfDataRate). */
const DATA_RATE_UNITS = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "B/s", "kB/s", "MB/s", "GB/s"];
const BINARY_DEVICE_CLASSES = ["connectivity", "problem", "running", "motion", "occupancy"];

function show(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

function topicString(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "" || /[#+\0]/.test(value)) {
    throw new Error(
      `${what} must be a non-empty topic without wildcards, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function optionalString(config: Json, key: string): void {
  if (config[key] !== undefined && typeof config[key] !== "string") {
    throw new Error(`${key} must be a string, got ${JSON.stringify(config[key])}`);
  }
}

/** Throws with the reason when `config` is not a valid discovery config of `component`. */
export function checkDiscoveryConfig(component: string, config: unknown): asserts config is Json {
  if (!HA_COMPONENTS.includes(component as HaComponent))
    throw new Error(`unknown component ${component}`);
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new Error("a discovery config is a JSON object");
  }
  const c = config as Json;
  const allowed = BY_COMPONENT[component as HaComponent];
  for (const key of Object.keys(c)) {
    if (!COMMON.has(key) && !allowed.has(key))
      throw new Error(`${component}: unknown key "${key}"`);
  }
  if (typeof c.unique_id !== "string" || c.unique_id === "")
    throw new Error("unique_id is required");
  if (c.name !== null) optionalString(c, "name");
  if (typeof c.device !== "object" || c.device === null) throw new Error("device is required");
  const device = c.device as Json;
  const ids = device.identifiers;
  if (!(
    typeof ids === "string" ||
    (Array.isArray(ids) && ids.length > 0 && ids.every((i) => typeof i === "string"))
  )) {
    throw new Error("device.identifiers must be a string or a non-empty list of strings");
  }
  for (const key of ["name", "manufacturer", "model", "sw_version"]) optionalString(device, key);
  if (c.origin !== undefined) {
    const origin = c.origin as Json;
    if (typeof origin.name !== "string" || origin.name === "")
      throw new Error("origin.name is required");
  }
  if (c.availability !== undefined) {
    if (!Array.isArray(c.availability) || c.availability.length === 0) {
      throw new Error("availability must be a non-empty list");
    }
    for (const a of c.availability as Json[]) {
      topicString(a.topic, "availability topic");
      for (const key of ["payload_available", "payload_not_available", "value_template"]) {
        optionalString(a, key);
      }
    }
  }
  if (
    c.entity_category !== undefined &&
    !["config", "diagnostic"].includes(c.entity_category as string)
  ) {
    throw new Error(`entity_category must be config or diagnostic, got ${show(c.entity_category)}`);
  }
  if (c.icon !== undefined && !(typeof c.icon === "string" && /^mdi:[a-z0-9-]+$/.test(c.icon)))
    throw new Error("icon must be mdi:<name>");
  if (c.json_attributes_topic !== undefined)
    topicString(c.json_attributes_topic, "json_attributes_topic");
  for (const key of [
    "value_template",
    "json_attributes_template",
    "unit_of_measurement",
    "payload_on",
    "payload_off",
  ]) {
    optionalString(c, key);
  }
  switch (component as HaComponent) {
    case "camera":
      topicString(c.topic, "topic");
      if (c.image_encoding !== undefined && c.image_encoding !== "b64")
        throw new Error("image_encoding is b64 or absent");
      break;
    case "sensor":
      topicString(c.state_topic, "state_topic");
      if (
        c.state_class !== undefined &&
        !["measurement", "total", "total_increasing"].includes(c.state_class as string)
      ) {
        throw new Error(`state_class ${show(c.state_class)} is not one Home Assistant knows`);
      }
      if (
        c.device_class === "data_rate" &&
        !DATA_RATE_UNITS.includes(c.unit_of_measurement as string)
      ) {
        throw new Error(
          `data_rate takes ${DATA_RATE_UNITS.join(", ")}, not ${show(c.unit_of_measurement)}`,
        );
      }
      if (
        c.suggested_display_precision !== undefined &&
        !(
          Number.isInteger(c.suggested_display_precision) &&
          Number(c.suggested_display_precision) >= 0
        )
      ) {
        throw new Error("suggested_display_precision must be a whole number");
      }
      break;
    case "binary_sensor":
      topicString(c.state_topic, "state_topic");
      if (
        c.device_class !== undefined &&
        !BINARY_DEVICE_CLASSES.includes(c.device_class as string)
      ) {
        throw new Error(`binary_sensor device_class ${show(c.device_class)} is not expected here`);
      }
      break;
  }
}

/**
 * Renders the two template forms camgw's configs use, as Home Assistant's
 * Jinja would: `{{ value_json.KEY }}` and `{{ 'A' if value_json.KEY else 'B' }}`.
 * Anything else throws, so a new template form gets a test of its own.
 */
export function renderTemplate(template: string, payload: string): string {
  const json = JSON.parse(payload) as Json;
  const plain = /^\{\{ value_json\.(\w+) \}\}$/.exec(template);
  if (plain?.[1] !== undefined) {
    if (!(plain[1] in json)) throw new Error(`the payload has no "${plain[1]}"`);
    return String(json[plain[1]]);
  }
  const choice = /^\{\{ '([^']*)' if value_json\.(\w+) else '([^']*)' \}\}$/.exec(template);
  if (choice?.[2] !== undefined) {
    if (!(choice[2] in json)) throw new Error(`the payload has no "${choice[2]}"`);
    return json[choice[2]] ? (choice[1] ?? "") : (choice[3] ?? "");
  }
  throw new Error(`template form not known to this test: ${template}`);
}
