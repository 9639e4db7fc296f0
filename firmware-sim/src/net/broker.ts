/**
 * Debian's Mosquitto on the lab's internet, where a real deployment's
 * broker is: anonymous MQTT on 1883 and MQTT over WebSocket on 8083 (for
 * browsers), reachable from every site through its NATs. Its own link
 * takes impairment like any other ("broker:delay=75ms").
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, waitForLog, type Daemon } from "./daemon.js";

export const MQTT_PORT = 1883;
export const MQTT_WS_PORT = 8083;

export interface BrokerInfo {
  address: string;
  mqttUrl: string;
  wsUrl: string;
  logFile: string;
}

export async function startMosquitto(
  ns: string,
  dir: string,
  address: string,
): Promise<{ daemon: Daemon; info: BrokerInfo }> {
  const logFile = join(dir, "mosquitto.log");
  const config = join(dir, "mosquitto.conf");
  await writeFile(
    config,
    [
      // Running as root: keep root, or mosquitto drops to a user that cannot write the lab's folder.
      "user root",
      "persistence false",
      `log_dest file ${logFile}`,
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
      "per_listener_settings false",
      "allow_anonymous true",
      `listener ${MQTT_PORT} ${address}`,
      `listener ${MQTT_WS_PORT} ${address}`,
      "protocol websockets",
      "",
    ].join("\n"),
  );
  const daemon = startDaemon(ns, "mosquitto", ["-c", config]);
  await waitForLog("mosquitto", daemon, logFile, [/mosquitto version \S+ running/]);
  return {
    daemon,
    info: {
      address,
      mqttUrl: `mqtt://${address}:${MQTT_PORT}`,
      wsUrl: `ws://${address}:${MQTT_WS_PORT}`,
      logFile,
    },
  };
}
