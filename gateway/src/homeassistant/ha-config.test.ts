import { describe, expect, it } from "vitest";
import { parseRunArgs } from "../cli-args.js";
import { loadConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { homeAssistantScope } from "./ha-scope.js";

const fromFlags = (...args: string[]): ReturnType<typeof loadConfig> =>
  loadConfig({ flags: parseRunArgs(args).flags });

describe("the Home Assistant config keys", () => {
  it("are off by default, with Home Assistant's own discovery prefix and no account that may read", () => {
    const c = loadConfig();
    expect(c["home-assistant"]).toBe(false);
    expect(c["home-assistant-prefix"]).toBe("homeassistant");
    expect(c["home-assistant-account"]).toBe("");
    expect(c["home-assistant-state-interval"]).toBe(10);
    expect(c["home-assistant-snapshot-interval"]).toBe(10);
    expect(c["home-assistant-snapshot-width"]).toBe(640);
    expect(homeAssistantScope(c)).toEqual({ prefix: "homeassistant", account: null });
  });

  it("come from flags and the environment, and give the account read access only while on", () => {
    const c = fromFlags(
      "--home-assistant",
      "--home-assistant-prefix",
      "ha/discovery",
      "--home-assistant-account",
      "hass",
      "--home-assistant-state-interval",
      "2",
    );
    expect(c["home-assistant"]).toBe(true);
    expect(homeAssistantScope(c)).toEqual({ prefix: "ha/discovery", account: "hass" });
    const off = loadConfig({
      env: { CAMGW_HOME_ASSISTANT: "false", CAMGW_HOME_ASSISTANT_ACCOUNT: "hass" },
    });
    expect(homeAssistantScope(off).account).toBeNull();
  });

  it("refuse bad values with the key, where it came from and what is allowed", () => {
    expect(() => fromFlags("--home-assistant-state-interval", "0")).toThrow(
      /flag --home-assistant-state-interval: must be between 1 and 3600, got 0/,
    );
    expect(() => fromFlags("--home-assistant-snapshot-interval", "often")).toThrow(
      /flag --home-assistant-snapshot-interval: expected a whole number, got "often"/,
    );
    expect(() => fromFlags("--home-assistant-snapshot-width", "10")).toThrow(
      /must be between 64 and 4096, got 10/,
    );
    expect(() => fromFlags("--home-assistant-prefix", "home/#")).toThrow(
      /flag --home-assistant-prefix: must be topic levels.*no wildcards/,
    );
    expect(() => loadConfig({ env: { CAMGW_HOME_ASSISTANT_ACCOUNT: "home assistant" } })).toThrow(
      /environment CAMGW_HOME_ASSISTANT_ACCOUNT: must be 1-64 characters/,
    );
    expect(() => loadConfig({ env: { CAMGW_HOME_ASSISTANT: "maybe" } })).toThrow(
      /expected true or false, got "maybe"/,
    );
  });

  it("refuse a discovery prefix that overlaps camgw's own topic prefix", () => {
    for (const [prefix, ha] of [
      ["camgw", "camgw"],
      ["camgw", "camgw/ha"],
      ["site/camgw", "site"],
    ] as const) {
      const load = (): unknown => loadConfig({ flags: { prefix, "home-assistant-prefix": ha } });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/home-assistant-prefix ".*" overlaps prefix/);
    }
    expect(
      loadConfig({ flags: { prefix: "camgw", "home-assistant-prefix": "camgw2" } }),
    ).toBeTruthy();
  });
});
