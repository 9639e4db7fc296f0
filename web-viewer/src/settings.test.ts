import { describe, expect, it } from "vitest";
import {
  STORAGE_KEY,
  defaultBrokerUrl,
  loadSettings,
  saveSettings,
  type KeyValueStore,
} from "./settings.js";

class MemoryStore implements KeyValueStore {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

const page = { protocol: "http:", host: "192.168.1.20:8080" };

describe("defaultBrokerUrl", () => {
  it("points at /mqtt on the host that served the page", () => {
    expect(defaultBrokerUrl(page)).toBe("ws://192.168.1.20:8080/mqtt");
  });

  it("uses wss for an https page (browsers block ws from secure pages)", () => {
    expect(defaultBrokerUrl({ protocol: "https:", host: "cams.example" })).toBe(
      "wss://cams.example/mqtt",
    );
  });
});

describe("loadSettings", () => {
  it("defaults to the serving host and prefix camgw when nothing is stored", () => {
    expect(loadSettings(new MemoryStore(), page, {})).toEqual({
      url: "ws://192.168.1.20:8080/mqtt",
      username: "",
      password: "",
      prefix: "camgw",
    });
  });

  it("remembers what was saved", () => {
    const store = new MemoryStore();
    const saved = { url: "wss://b/mqtt", username: "ann", password: "pw", prefix: "home" };
    saveSettings(store, saved, true);
    expect(loadSettings(store, page, {})).toEqual(saved);
  });

  it("lets the link's broker and prefix win without overwriting what was saved", () => {
    const store = new MemoryStore();
    saveSettings(
      store,
      { url: "wss://b/mqtt", username: "ann", password: "pw", prefix: "home" },
      true,
    );
    const s = loadSettings(store, page, { broker: "wss://b/mqtt", prefix: "lab" });
    expect(s).toEqual({ url: "wss://b/mqtt", username: "ann", password: "pw", prefix: "lab" });
    expect(loadSettings(store, page, {}).url).toBe("wss://b/mqtt");
  });

  it("never gives the stored login to a broker a link names instead", () => {
    const store = new MemoryStore();
    const saved = {
      url: "ws://192.168.1.20:8080/mqtt",
      username: "ann",
      password: "pw",
      prefix: "camgw",
      token: "ann.t",
    };
    saveSettings(store, saved, true);
    expect(loadSettings(store, page, {})).toEqual(saved);
    expect(loadSettings(store, page, { broker: "wss://evil.example/mqtt" })).toEqual({
      url: "wss://evil.example/mqtt",
      username: "",
      password: "",
      prefix: "camgw",
    });
  });

  it("forgets the stored settings when remember is off", () => {
    const store = new MemoryStore();
    saveSettings(store, { url: "wss://b/mqtt", username: "", password: "", prefix: "x" }, true);
    saveSettings(store, { url: "wss://b/mqtt", username: "", password: "", prefix: "x" }, false);
    expect(store.map.has(STORAGE_KEY)).toBe(false);
  });

  it("ignores corrupt or foreign stored data and falls back to defaults", () => {
    const store = new MemoryStore();
    store.setItem(STORAGE_KEY, "{not json");
    expect(loadSettings(store, page, {}).url).toBe("ws://192.168.1.20:8080/mqtt");
    store.setItem(STORAGE_KEY, JSON.stringify({ url: 42, prefix: ["x"] }));
    expect(loadSettings(store, page, {}).prefix).toBe("camgw");
  });

  it("still works when storage throws (disabled in private mode)", () => {
    const broken: KeyValueStore = {
      getItem: () => {
        throw new Error("SecurityError");
      },
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
      removeItem: () => undefined,
    };
    expect(loadSettings(broken, page, {}).prefix).toBe("camgw");
    expect(() => {
      saveSettings(broken, { url: "ws://a/mqtt", username: "", password: "", prefix: "p" }, true);
    }).not.toThrow();
  });
});
