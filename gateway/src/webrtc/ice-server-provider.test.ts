import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IceServerProvider } from "./ice-server-provider.js";
import { turnRestCredentials } from "./turn-credentials.js";

const NOW = Date.UTC(2026, 0, 1);
const SECRET = "s3cret";

function provider(overrides: Partial<ConstructorParameters<typeof IceServerProvider>[0]> = {}) {
  let now = NOW;
  const p = new IceServerProvider({
    servers: [
      { urls: "stun:stun.example.net:3478" },
      { urls: "turn:turn.example.net:3478" },
      { urls: "turns:turn.example.net:5349?transport=tcp" },
    ],
    turnSecret: SECRET,
    credentialTtlS: 3600,
    deviceId: "porch",
    now: () => now,
    ...overrides,
  });
  return { p, advance: (ms: number) => (now += ms) };
}

describe("TURN REST credentials", () => {
  it("are the expiry time and the name, and base64 HMAC-SHA1 of that under the secret (coturn use-auth-secret)", () => {
    const c = turnRestCredentials(SECRET, "viewer1", 600, NOW);
    expect(c.username).toBe(`${NOW / 1000 + 600}:viewer1`);
    expect(c.expires).toBe(NOW / 1000 + 600);
    expect(c.credential).toBe(createHmac("sha1", SECRET).update(c.username).digest("base64"));
  });
});

describe("IceServerProvider", () => {
  it("gives a viewer every STUN URL and the TURN URLs with credentials made for it, and their lifetime", () => {
    const { p } = provider();
    const v = p.forViewer("v1");
    expect(v.ttl).toBe(3600);
    expect(v.iceServers).toEqual([
      { urls: ["stun:stun.example.net:3478"] },
      {
        urls: ["turn:turn.example.net:3478", "turns:turn.example.net:5349?transport=tcp"],
        ...credentials("v1"),
      },
    ]);
    expect(p.sharesTurn).toBe(true);
  });

  it("never hands out fixed TURN credentials, from the config or ice-username/ice-credential", () => {
    const fixed = new IceServerProvider({
      servers: [
        { urls: "stun:stun.example.net" },
        { urls: "turn:a.example.net", username: "cam", credential: "fixed" },
        { urls: "turn:b.example.net" },
      ],
      deviceId: "porch",
      username: "cam",
      credential: "alsofixed",
    });
    const v = fixed.forViewer("v1");
    expect(v).toEqual({ iceServers: [{ urls: ["stun:stun.example.net"] }] });
    expect(JSON.stringify(v)).not.toContain("fixed");
    expect(fixed.sharesTurn).toBe(false);
    // The gateway itself uses them.
    expect(fixed.forGateway().servers).toEqual([
      { urls: "stun:stun.example.net" },
      { urls: "turn:a.example.net", username: "cam", credential: "fixed" },
      { urls: "turn:b.example.net", username: "cam", credential: "alsofixed" },
    ]);
  });

  it("gives a viewer nothing on a LAN configuration", () => {
    const lan = new IceServerProvider({ servers: [], deviceId: "porch" });
    expect(lan.forViewer("v1")).toEqual({ iceServers: [] });
  });

  it("makes the gateway's own credentials per session, in its device id's name", () => {
    const { p, advance } = provider();
    const first = p.forGateway();
    advance(10_000);
    const second = p.forGateway();
    expect(first.servers[1]).toMatchObject({
      urls: "turn:turn.example.net:3478",
      ...credentials("porch"),
    });
    expect(second.servers[1]?.username).toBe(`${NOW / 1000 + 10 + 3600}:porch`);
    expect(first.servers[0]).toEqual({ urls: "stun:stun.example.net:3478" });
  });

  it("pins a plain turn: URL to TCP for a while after UDP got no allocation there, then tries UDP again", () => {
    const { p, advance } = provider({ transportMemoryMs: 60_000 });
    const seen: string[] = [];
    p.on("transport", (url, t) => seen.push(`${url} ${t}`));
    const first = p.forGateway();
    expect(first.racedTurnUrl).toBe("turn:turn.example.net:3478");
    p.noteTurnTransport("turn:turn.example.net:3478", "tcp");
    const pinned = p.forGateway();
    expect(pinned.servers[1]?.urls).toBe("turn:turn.example.net:3478?transport=tcp");
    expect(pinned.racedTurnUrl).toBeUndefined();
    // Explicit transports are the configuration's business: never rewritten.
    expect(pinned.servers[2]?.urls).toBe("turns:turn.example.net:5349?transport=tcp");
    expect(p.rememberedTcp).toEqual(["turn:turn.example.net:3478"]);
    advance(60_001);
    expect(p.forGateway().servers[1]?.urls).toBe("turn:turn.example.net:3478");
    expect(seen).toEqual(["turn:turn.example.net:3478 tcp"]);
  });

  it("forgets what worked when UDP wins again, or the network changes", () => {
    const { p } = provider();
    p.noteTurnTransport("turn:turn.example.net:3478", "tcp");
    p.noteTurnTransport("turn:turn.example.net:3478", "udp");
    expect(p.rememberedTcp).toEqual([]);
    p.noteTurnTransport("turn:turn.example.net:3478", "tcp");
    p.forgetTransports();
    expect(p.forGateway().servers[1]?.urls).toBe("turn:turn.example.net:3478");
  });
});

function credentials(name: string): { username: string; credential: string } {
  const { username, credential } = turnRestCredentials(SECRET, name, 3600, NOW);
  return { username, credential };
}
