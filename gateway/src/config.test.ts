import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { configYaml, envName, KEYS, loadConfig } from "./config.js";
import { parseRunArgs } from "./cli-args.js";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "camgw-config-"));
  tempDirs.push(dir);
  const path = join(dir, "config.yaml");
  writeFileSync(path, text);
  return path;
}

describe("config", () => {
  it("starts from defaults that run the embedded broker on port 8080", () => {
    const c = loadConfig();
    expect(c.broker).toBe("embedded");
    expect(c["http-port"]).toBe(8080);
    expect(c.size).toEqual({ width: 1280, height: 720 });
    expect(c["max-viewers"]).toBe(8);
    expect(c["ice-servers"]).toEqual([]);
    expect(c.name).toBe(c["device-id"]);
  });

  it("layers file < environment < flags", () => {
    const file = tempFile("device-id: from-file\nfps: 15\nbitrate: 1000\nsize: 640x480\n");
    const c = loadConfig({
      file,
      env: { CAMGW_FPS: "20", CAMGW_BITRATE: "1500" },
      flags: { bitrate: "3000" },
    });
    expect(c["device-id"]).toBe("from-file");
    expect(c.fps).toBe(20);
    expect(c.bitrate).toBe(3000);
    expect(c.size).toEqual({ width: 640, height: 480 });
  });

  it("reads ICE host addresses as a list of IPs", () => {
    expect(
      loadConfig({ flags: { "ice-host-addresses": "127.0.0.1, ::1" } })["ice-host-addresses"],
    ).toEqual(["127.0.0.1", "::1"]);
  });

  it("names environment variables CAMGW_ plus the key in upper case", () => {
    expect(envName("max-viewers")).toBe("CAMGW_MAX_VIEWERS");
  });

  it("parses each source form", () => {
    expect(loadConfig({ flags: { source: "sim" } }).source).toEqual({ kind: "sim" });
    expect(loadConfig({ flags: { source: "v4l2:/dev/video2" } }).source).toEqual({
      kind: "v4l2",
      device: "/dev/video2",
    });
    expect(loadConfig({ flags: { source: "pipe:rpicam-vid --inline -t 0 -o -" } }).source).toEqual({
      kind: "pipe",
      command: "rpicam-vid --inline -t 0 -o -",
    });
  });

  it("reads ICE servers from a comma list and from YAML objects", () => {
    expect(
      loadConfig({ flags: { "ice-servers": "stun:127.0.0.1:3478, turn:127.0.0.1:3479" } })[
        "ice-servers"
      ],
    ).toEqual([{ urls: "stun:127.0.0.1:3478" }, { urls: "turn:127.0.0.1:3479" }]);
    const file = tempFile(
      "ice-servers:\n  - urls: turn:127.0.0.1:3478\n    username: u\n    credential: p\n",
    );
    expect(loadConfig({ file })["ice-servers"]).toEqual([
      { urls: "turn:127.0.0.1:3478", username: "u", credential: "p" },
    ]);
  });

  it.each([
    [{ fps: "fast" }, /flag --fps: expected a whole number, got "fast"/],
    [{ fps: "0" }, /flag --fps: must be between 1 and 120/],
    [{ size: "1280" }, /flag --size: expected WIDTHxHEIGHT/],
    [{ size: "641x480" }, /must be even/],
    [{ "device-id": "has space" }, /flag --device-id: must be 1-64 characters/],
    [{ prefix: "camgw/#" }, /flag --prefix: must be topic levels/],
    [{ prefix: "/camgw" }, /flag --prefix/],
    [{ source: "usb" }, /flag --source: must be auto, sim, v4l2/],
    [{ source: "pipe:" }, /pipe needs a command/],
    [{ broker: "http://x" }, /unsupported scheme "http:"/],
    [{ broker: "not a url" }, /must be "embedded" or a mqtt/],
    [{ encoder: "gpu" }, /must be one of auto, hardware, software, passthrough/],
    [{ "keep-warm": "maybe" }, /expected true or false/],
    [{ "ice-servers": "http://stun" }, /ICE server must be a stun:/],
    [{ "ice-host-addresses": "127.0.0.1,localhost" }, /"localhost" is not an IPv4 or IPv6 address/],
  ])("refuses flags %o with a message naming the flag", (flags, message) => {
    expect(() => loadConfig({ flags })).toThrow(message);
    expect(() => loadConfig({ flags })).toThrow(ConfigError);
  });

  it("names the environment variable in its errors", () => {
    expect(() => loadConfig({ env: { CAMGW_HTTP_PORT: "70000" } })).toThrow(
      /environment CAMGW_HTTP_PORT: must be between 0 and 65535/,
    );
  });

  it("refuses an unknown key, a non-mapping and bad YAML in the file, naming the file", () => {
    const unknown = tempFile("device-id: a\nfrobnicate: 1\n");
    expect(() => loadConfig({ file: unknown })).toThrow(/unknown key "frobnicate"/);
    expect(() => loadConfig({ file: tempFile("- a\n- b\n") })).toThrow(/expected a mapping/);
    expect(() => loadConfig({ file: tempFile("a: [\n") })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ file: "/nonexistent/camgw.yaml" })).toThrow(
      /config file \/nonexistent\/camgw.yaml: ENOENT/,
    );
    expect(() => loadConfig({ file: tempFile("fps: [1]\n") })).toThrow(
      /key "fps": expected a string, got a list/,
    );
  });

  // Found by fuzzing (docs/fuzzing.md): yaml printed these as Node process
  // warnings and went on with a guess (`fps: !5` loaded as fps 5).
  it("refuses YAML its parser only warns about instead of guessing", () => {
    expect(() => loadConfig({ file: tempFile("fps: !5\n") })).toThrow(
      /not valid YAML: Unresolved tag: !5/,
    );
    expect(() => loadConfig({ file: tempFile("&ps: 05\n") })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ file: tempFile("? { device-id: a }\n: 1\n") })).toThrow(
      /unknown key "\{ device-id: a \}"/,
    );
  });

  it("prints a config that loads back as the same config, every key and source form", () => {
    const forms = [
      { source: "auto" },
      { source: "sim", "sim-profile": "pi5", "sim-faults": "drop:rate=0.1" },
      { source: "v4l2:/dev/video2", size: "1920x1080", encoder: "software" },
      { source: "pipe:rpicam-vid --inline -t 0 -o - | cat", "keep-warm": true },
    ];
    for (const flags of forms) {
      const config = loadConfig({
        flags: {
          ...flags,
          "device-id": "porch",
          "ice-servers": "stun:127.0.0.1:3478",
          "ice-host-addresses": "127.0.0.1",
          bitrate: "1500",
        },
      });
      const file = tempFile(configYaml(config));
      expect(loadConfig({ file })).toEqual(config);
    }
  });

  it("leaves secrets out of the printed config, says which, and still loads back", () => {
    const file = tempFile(
      "ice-servers:\n  - urls: turn:127.0.0.1:3478\n    username: u\n    credential: turnsecret\n",
    );
    const config = loadConfig({ file, flags: { "broker-password": "hunter2" } });
    const yaml = configYaml(config);
    expect(yaml).not.toContain("hunter2");
    expect(yaml).not.toContain("turnsecret");
    expect(yaml).toMatch(/not printed.*broker-password \(or CAMGW_BROKER_PASSWORD\)/);
    expect(yaml).toContain("ice-servers[0].credential");
    const back = loadConfig({ file: tempFile(yaml) });
    expect(back["broker-password"]).toBe("");
    expect(back["ice-servers"]).toEqual([{ urls: "turn:127.0.0.1:3478", username: "u" }]);
    expect({ ...back, "broker-password": "", "ice-servers": [] }).toEqual({
      ...config,
      "broker-password": "",
      "ice-servers": [],
    });
  });

  it("reads the WHEP and WHIP keys, keeps their tokens secret and refuses bad URLs and origins", () => {
    const config = loadConfig({
      flags: {
        "whep-token": "t0ken",
        "whep-cors-origins": "https://player.example.net, http://127.0.0.1:8000",
        "whip-url": "https://sfu.example.net/whip/endpoint/cam",
        "whip-token": "wh1p",
      },
    });
    expect(config["whep-cors-origins"]).toEqual([
      "https://player.example.net",
      "http://127.0.0.1:8000",
    ]);
    const yaml = configYaml(config);
    expect(yaml).not.toContain("t0ken");
    expect(yaml).not.toContain("wh1p");
    expect(yaml).toMatch(/whep-token \(or CAMGW_WHEP_TOKEN\), whip-token/);
    expect(loadConfig({ file: tempFile(yaml) })["whep-cors-origins"]).toEqual(
      config["whep-cors-origins"],
    );
    expect(loadConfig({ flags: { "whep-cors-origins": "*" } })["whep-cors-origins"]).toEqual(["*"]);
    expect(() => loadConfig({ flags: { "whep-cors-origins": "https://x.example/path" } })).toThrow(
      /flag --whep-cors-origins: "https:\/\/x.example\/path" is not an origin/,
    );
    expect(() => loadConfig({ flags: { "whep-cors-origins": "player.example" } })).toThrow(
      /is not an origin/,
    );
    expect(() => loadConfig({ env: { CAMGW_WHIP_URL: "ftp://x" } })).toThrow(
      /environment CAMGW_WHIP_URL: unsupported scheme "ftp:"/,
    );
    expect(() => loadConfig({ flags: { "whip-url": "not a url" } })).toThrow(
      /must be an http:\/\/ or https:\/\/ URL/,
    );
  });

  it("takes the TURN secret from the file or the environment, never prints it, and refuses it as a flag", () => {
    const file = tempFile("ice-servers: turn:198.18.0.2:3478\nturn-secret: from-the-file\n");
    const fromFile = loadConfig({ file });
    expect(fromFile["turn-secret"]).toBe("from-the-file");
    const fromEnv = loadConfig({ file, env: { CAMGW_TURN_SECRET: "from-env" } });
    expect(fromEnv["turn-secret"]).toBe("from-env");
    const yaml = configYaml(fromEnv);
    expect(yaml).not.toContain("from-env");
    expect(yaml).toMatch(/not printed.*turn-secret \(or CAMGW_TURN_SECRET\)/);
    expect(() => parseRunArgs(["--turn-secret", "x"])).toThrow(
      /--turn-secret is not a flag.*config file or CAMGW_TURN_SECRET/,
    );
    expect(() => parseRunArgs(["--turn-secret=x"])).toThrow(/not a flag/);
  });

  it("refuses a TURN secret with fixed credentials, or with no TURN URL to use it on", () => {
    expect(() =>
      loadConfig({
        env: { CAMGW_TURN_SECRET: "s" },
        flags: { "ice-servers": "turn:198.18.0.2:3478", "ice-username": "u" },
      }),
    ).toThrow(/turn-secret and ice-username\/ice-credential are both set/);
    expect(() =>
      loadConfig({ env: { CAMGW_TURN_SECRET: "s" }, flags: { "ice-servers": "stun:198.18.0.2" } }),
    ).toThrow(/no turn: or turns: URL/);
    expect(
      loadConfig({
        env: { CAMGW_TURN_SECRET: "s" },
        flags: {
          "ice-servers": "stun:198.18.0.2,turns:198.18.0.2:5349",
          "turn-credential-ttl": "600",
        },
      })["turn-credential-ttl"],
    ).toBe(600);
  });

  it("is documented key by key in docs/config.md", () => {
    const doc = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
    for (const key of KEYS) expect(doc).toContain(`| \`${key}\` | \`${envName(key)}\` |`);
  });
});
