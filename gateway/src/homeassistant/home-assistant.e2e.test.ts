/**
 * Home Assistant MQTT discovery through the real `camgw run` on the virtual
 * board and its embedded broker: Home Assistant logs in with the account
 * named in home-assistant-account and sees what its MQTT integration needs;
 * other viewers see none of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PairingCredentials } from "../auth/pairing-link.js";
import { runProbe } from "../probe/probe.js";
import { probeLogin, startGateway, type GatewayProcess } from "../testing/gateway-process.js";
import { connected, publishOutcome, subscribeCodes } from "../testing/mqtt-attacker.js";
import { waitUntil } from "../testing/wait-until.js";
import type { HaState } from "./ha-state.js";
import { checkAnnouncement, HomeAssistantClient } from "./testing/home-assistant-client.js";

const STATUS = "camgw/porch/status";
const STATE = "camgw/porch/ha/state";
const SNAPSHOT = "camgw/porch/ha/snapshot";
const STATUS_PAYLOADS = { online: '{"online":true}', offline: '{"online":false}' };

describe("Home Assistant discovery on the embedded broker", () => {
  let gw: GatewayProcess;
  let hass: PairingCredentials;
  let mallory: PairingCredentials;
  let ha: HomeAssistantClient;

  beforeAll(async () => {
    gw = await startGateway({
      args: [
        "--device-id",
        "porch",
        "--home-assistant",
        "--home-assistant-account",
        "hass",
        "--home-assistant-state-interval",
        "1",
        "--home-assistant-snapshot-interval",
        "2",
      ],
    });
    hass = await gw.addViewer("hass");
    mallory = await gw.addViewer("mallory");
    // Home Assistant's MQTT options: its client id must be its username or start with "<username>.".
    ha = await HomeAssistantClient.connect(
      gw.mqttUrl ?? "",
      { username: hass.username, password: hass.password, clientId: `${hass.username}.ha` },
      ["homeassistant/#", STATE, STATUS, SNAPSHOT],
    );
  });

  afterAll(async () => {
    await ha.close();
    await gw.stop();
  });

  it("announces retained configs Home Assistant's schema takes, all unavailable unless the device's status says online", async () => {
    await ha.waitForJson<{ online: boolean }>(STATUS, (s) => s.online);
    await ha.waitForJson(STATE, () => true);
    const entities = checkAnnouncement(ha.announced("homeassistant"), STATUS, STATUS_PAYLOADS);
    expect(entities.map((e) => `${e.component}/${e.objectId}`).sort()).toEqual([
      "binary_sensor/online",
      "camera/snapshot",
      "sensor/bitrate",
      "sensor/encoder",
      "sensor/fps",
      "sensor/viewers",
    ]);
    // The camera entity's pictures: the camera's own snapshots, JPEG, not retained.
    await waitUntil(() => ha.last(SNAPSHOT) !== undefined, 30_000);
    const picture = ha.last(SNAPSHOT);
    expect(picture?.retain).toBe(false);
    expect(picture?.payload.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const online = entities.find((e) => e.objectId === "online");
    expect(online?.config.state_topic).toBe(STATUS);
    expect(online?.config.availability).toBeUndefined();
    for (const e of entities.filter((x) => x.component === "sensor")) {
      expect(e.config.state_topic).toBe(STATE);
    }
  });

  it("sends the sensors' state as numbers that rise while a viewer watches", async () => {
    const idle = await ha.waitForJson<HaState>(STATE, () => true);
    expect(typeof idle.viewers).toBe("number");
    expect(idle.encoder).not.toBe("");
    const watching = runProbe({ ...probeLogin(gw), deviceId: "porch", seconds: 8, decode: false });
    const busy = await ha.waitForJson<HaState>(
      STATE,
      (s) => s.viewers >= 1 && s.fps > 0 && s.bitrate > 0,
    );
    expect(busy.size).toMatch(/^\d+x\d+$/);
    expect(busy.source).toBe("live");
    // The virtual pi4 board encodes in its (virtual) V4L2 M2M encoder.
    expect(busy.encoder).toMatch(/^hardware \(V4L2 M2M/);
    const report = await watching;
    expect(report.frames).toBeGreaterThan(0);
    // The viewer left: the count goes back to 0, nothing is sent, and the
    // encoder of the (now closed) camera is still named.
    await ha.waitForJson<HaState>(
      STATE,
      (s) => s.viewers === 0 && s.bitrate === 0 && s.encoder === busy.encoder,
    );
  });

  it("lets no other viewer read Home Assistant's topics or write under its prefix", async () => {
    const m = await connected(gw.mqttUrl ?? "", {
      username: mallory.username,
      password: mallory.password,
      clientId: mallory.username,
    });
    expect(
      await subscribeCodes(m, [
        "homeassistant/#",
        STATE,
        "camgw/porch/ha/#",
        "camgw/+/ha/snapshot",
      ]),
    ).toEqual([128, 128, 128, 128]);
    expect(
      await publishOutcome(m, "homeassistant/sensor/porch/viewers/config", "{}", { retain: true }),
    ).toBe("closed");
    // Home Assistant itself may say it is there, but may not announce entities.
    expect(await publishOutcome(ha.client, "homeassistant/status", "online")).toBe("acknowledged");
    const h2 = await connected(gw.mqttUrl ?? "", {
      username: hass.username,
      password: hass.password,
      clientId: `${hass.username}.other`,
    });
    expect(await publishOutcome(h2, "homeassistant/sensor/porch/fake/config", "{}")).toBe("closed");
    await m.endAsync(true);
  });

  it("marks the entities unavailable when the gateway stops cleanly", async () => {
    const before = ha.seen.length;
    expect(await gw.stop()).toBe(0);
    const offline = ha.seen
      .slice(before)
      .filter((m) => m.topic === STATUS)
      .map((m) => JSON.parse(m.payload.toString()) as { online: boolean });
    expect(offline.at(-1)?.online).toBe(false);
  });
});
