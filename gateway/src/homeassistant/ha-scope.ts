import type { Config } from "../config.js";

/**
 * Home Assistant's part of the broker ACL for a config (auth/broker-acl.ts,
 * auth/mosquitto-files.ts): the device may always use its own Home Assistant
 * topics (also to remove what an earlier start announced); the named
 * account may read them only while the feature is on.
 */
export function homeAssistantScope(config: Config): { prefix: string; account: string | null } {
  const account = config["home-assistant-account"];
  return {
    prefix: config["home-assistant-prefix"],
    account: config["home-assistant"] && account !== "" ? account : null,
  };
}
