import { describe, expect, it } from "vitest";
import { discoveryMessages, type DiscoveryInput } from "./discovery.js";
import { isOwnDiscoveryTopic } from "./ha-topics.js";
import { checkDiscoveryConfig, renderTemplate } from "./testing/discovery-schema.js";

const INPUT: DiscoveryInput = {
  haPrefix: "homeassistant",
  prefix: "camgw",
  deviceId: "porch",
  statusTopic: "camgw/porch/status",
  name: "Porch",
  version: "1.2.3",
  model: "camgw (sim)",
};

describe("Home Assistant discovery configs", () => {
  it("describe every entity in a form Home Assistant's schema takes, on the device's own discovery topics", () => {
    const messages = discoveryMessages(INPUT, () => true);
    expect(messages.map((m) => m.topic)).toEqual([
      "homeassistant/camera/porch/snapshot/config",
      "homeassistant/sensor/porch/viewers/config",
      "homeassistant/sensor/porch/fps/config",
      "homeassistant/sensor/porch/bitrate/config",
      "homeassistant/sensor/porch/encoder/config",
      "homeassistant/binary_sensor/porch/online/config",
    ]);
    for (const m of messages) {
      expect(isOwnDiscoveryTopic("homeassistant", "porch", m.topic)).toBe(true);
      checkDiscoveryConfig(m.component, JSON.parse(m.payload));
    }
    const camera = JSON.parse(messages[0]?.payload ?? "") as Record<string, unknown>;
    expect(camera.topic).toBe("camgw/porch/ha/snapshot");
    expect(camera.device).toEqual({
      identifiers: ["camgw_porch"],
      name: "Porch",
      manufacturer: "camgw",
      model: "camgw (sim)",
      sw_version: "1.2.3",
    });
  });

  it("read the sensors' values out of the state JSON and online out of the device's status", () => {
    const state = JSON.stringify({ viewers: 2, fps: 29.9, bitrate: 1800, encoder: "x264" });
    const byId = new Map(
      discoveryMessages(INPUT, () => true).map((m) => [
        m.objectId,
        JSON.parse(m.payload) as Record<string, string>,
      ]),
    );
    const value = (id: string, payload: string): string =>
      renderTemplate(byId.get(id)?.value_template ?? "", payload);
    expect(value("viewers", state)).toBe("2");
    expect(value("fps", state)).toBe("29.9");
    expect(value("bitrate", state)).toBe("1800");
    expect(value("encoder", state)).toBe("x264");
    expect(value("online", '{"v":1,"type":"status","online":true}')).toBe("ON");
    expect(value("online", '{"v":1,"type":"status","online":false}')).toBe("OFF");
  });

  it("are empty payloads, Home Assistant's removal, for entities that are not wanted", () => {
    const messages = discoveryMessages(INPUT, (e) => e.component !== "camera");
    expect(messages.filter((m) => m.payload === "").map((m) => m.objectId)).toEqual(["snapshot"]);
    expect(discoveryMessages(INPUT, () => false).every((m) => m.payload === "")).toBe(true);
  });

  it("are checked strictly enough that a wrong key, unit or topic fails", () => {
    const good = JSON.parse(
      discoveryMessages(INPUT, () => true).find((m) => m.objectId === "bitrate")?.payload ?? "",
    ) as Record<string, unknown>;
    expect(() => checkDiscoveryConfig("sensor", { ...good, state_topc: "x" })).toThrow(
      /unknown key/,
    );
    expect(() => checkDiscoveryConfig("sensor", { ...good, unit_of_measurement: "kbps" })).toThrow(
      /data_rate takes/,
    );
    expect(() => checkDiscoveryConfig("sensor", { ...good, state_topic: "camgw/+/state" })).toThrow(
      /state_topic must be a non-empty topic/,
    );
    expect(() => checkDiscoveryConfig("sensor", { ...good, unique_id: "" })).toThrow(/unique_id/);
    expect(() => checkDiscoveryConfig("light", good)).toThrow(/unknown component/);
    expect(
      isOwnDiscoveryTopic("homeassistant", "porch", "homeassistant/sensor/yard/x/config"),
    ).toBe(false);
    expect(
      isOwnDiscoveryTopic("homeassistant", "porch", "homeassistant/light/porch/x/config"),
    ).toBe(false);
  });
});
