/**
 * Home Assistant discovery through Debian's Mosquitto, set up with the files
 * `camgw broker-config mosquitto` writes (the ACL lines docs/home-assistant.md
 * shows): a broker that keeps retained messages across camgw restarts, so
 * the offline status after a clean stop, and the removal of the entities on
 * a start with the feature off, can be seen as Home Assistant sees them.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PairingCredentials } from "../auth/pairing-link.js";
import { startGateway, type GatewayProcess } from "../testing/gateway-process.js";
import { connected, collect, publishOutcome } from "../testing/mqtt-attacker.js";
import { Mosquitto } from "../testing/mosquitto.js";
import { freePort } from "../testing/ports.js";
import { sleep, waitUntil } from "../testing/wait-until.js";
import { readAnnouncement } from "./announcement-record.js";
import type { HaState } from "./ha-state.js";
import { checkAnnouncement, HomeAssistantClient } from "./testing/home-assistant-client.js";
import { startConfiguredMosquitto } from "../testing/configured-mosquitto.js";

const STATUS = "camgw/porch/status";
const STATE = "camgw/porch/ha/state";
const HA_FLAGS = [
  "--home-assistant",
  "--home-assistant-account",
  "hass",
  "--home-assistant-state-interval",
  "1",
];

describe("Home Assistant discovery through Mosquitto set up with camgw broker-config", () => {
  let mosquitto: Mosquitto;
  let gw: GatewayProcess;
  let stateDir: string;
  let filesDir: string;
  let url: string;
  let hass: PairingCredentials;
  let mallory: PairingCredentials;

  const gateway = (extra: string[], owner?: PairingCredentials): Promise<GatewayProcess> =>
    startGateway({
      stateDir,
      ...(owner ? { owner } : {}),
      args: ["--device-id", "porch", "--broker", url, ...extra],
    });
  const haLogin = (): { username: string; password: string } => ({
    username: hass.username,
    password: hass.password,
  });

  beforeAll(async () => {
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    stateDir = await mkdtemp(join(tmpdir(), "camgw-ha-state-"));
    gw = await gateway(HA_FLAGS);
    hass = await gw.addViewer("hass");
    mallory = await gw.addViewer("mallory");
    filesDir = await mkdtemp(join(tmpdir(), "camgw-ha-broker-"));
    mosquitto = await startConfiguredMosquitto({
      stateDir,
      deviceId: "porch",
      port,
      filesDir,
      extraArgs: HA_FLAGS,
    });
  });

  afterAll(async () => {
    await gw.stop();
    await mosquitto.close();
    await rm(filesDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it("writes ACL lines that let the device announce itself and only Home Assistant's account read it", async () => {
    const acl = await readFile(join(filesDir, "acl"), "utf8");
    expect(acl).toContain("topic write homeassistant/+/porch/+/config");
    expect(acl).toMatch(
      /user hass\ntopic read homeassistant\/#\ntopic write homeassistant\/status/,
    );
    expect(acl).toContain("topic read camgw/porch/ha/#");
  });

  it("notes in the state directory where it announced itself", async () => {
    await waitUntil(async () => (await readAnnouncement(stateDir)) !== undefined);
    expect(await readAnnouncement(stateDir)).toEqual({
      haPrefix: "homeassistant",
      prefix: "camgw",
      deviceId: "porch",
    });
  });

  it("keeps configs Home Assistant's schema takes, which Home Assistant's login reads and other viewers do not", async () => {
    const ha = await HomeAssistantClient.connect(url, haLogin(), [
      "homeassistant/#",
      STATE,
      STATUS,
    ]);
    const m = await connected(url, { username: mallory.username, password: mallory.password });
    const malloryGot = collect(m);
    await m.subscribeAsync(["homeassistant/#", "camgw/porch/ha/#"], { qos: 1 });
    await ha.waitForJson<{ online: boolean }>(STATUS, (s) => s.online);
    // Five sensors and the camera.
    await waitUntil(() => ha.announced("homeassistant").size === 6);
    // Two fresh states reach Home Assistant (one a second) while Mallory is subscribed.
    const seen = ha.seen.length;
    await waitUntil(() => ha.seen.slice(seen).filter((x) => x.topic === STATE).length >= 2);
    expect(malloryGot).toEqual([]);
    // Mosquitto drops (and acknowledges) what the ACL refuses: the config stays as the device wrote it.
    expect(
      await publishOutcome(m, "homeassistant/sensor/porch/viewers/config", "", { retain: true }),
    ).toBe("acknowledged");
    await m.endAsync(true);
    const fresh = await HomeAssistantClient.connect(url, haLogin(), ["homeassistant/#"]);
    // A fresh subscriber gets them as retained messages, as Home Assistant does on its start.
    await waitUntil(() => fresh.announced("homeassistant").size === 6);
    const entities = checkAnnouncement(fresh.announced("homeassistant"), STATUS, {
      online: '{"online":true}',
      offline: '{"online":false}',
    });
    expect(entities).toHaveLength(6);
    await fresh.close();
    await ha.close();
  });

  it("leaves the status offline after a clean stop, and a start with the feature off removes every entity", async () => {
    const owner = gw.owner;
    expect(await gw.stop()).toBe(0);
    const afterStop = await HomeAssistantClient.connect(url, haLogin(), [STATUS, STATE]);
    const status = await afterStop.waitForJson<{ online: boolean }>(STATUS, () => true);
    expect(status.online).toBe(false);
    // The last state stays (retained) for when the device is back.
    await afterStop.waitForJson<HaState>(STATE, () => true);
    await afterStop.close();

    gw = await gateway([], owner);
    // A fresh subscriber, as Home Assistant after its own restart: the status
    // is there (online again), and no config or state is left.
    await waitUntil(async () => {
      const ha = await HomeAssistantClient.connect(url, haLogin(), [
        "homeassistant/#",
        STATE,
        STATUS,
      ]);
      await ha.waitForJson<{ online: boolean }>(STATUS, (x) => x.online);
      await sleep(500);
      const left = ha.announced("homeassistant");
      const state = ha.last(STATE);
      await ha.close();
      return left.size === 0 && state === undefined;
    }, 20_000);
    // Done once: the note of the announcement is gone with it.
    await waitUntil(async () => (await readAnnouncement(stateDir)) === undefined);
  });

  it("publishes nothing under Home Assistant's prefix when the feature is off and nothing was announced", async () => {
    const owner = gw.owner;
    const ha = await HomeAssistantClient.connect(url, haLogin(), ["homeassistant/#", STATUS]);
    expect(await gw.stop()).toBe(0);
    gw = await gateway([], owner);
    const since = ha.seen.length;
    await ha.waitForJson<{ online: boolean }>(STATUS, (x) => x.online);
    // The status is the device's first publish on connect; anything of Home Assistant's would follow it.
    await sleep(1000);
    expect(ha.seen.slice(since).filter((m) => m.topic.startsWith("homeassistant/"))).toEqual([]);
    await ha.close();
  });
});
