/**
 * The lab's coturn: STUN and TURN over UDP, TCP and TLS (checked against
 * the lab CA), REST-API credentials from the shared secret, and the
 * allocation lifetime the lab configured.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabAgent } from "./agent-client.js";
import { startNetLab, type NetLab } from "./net-lab.js";
import type { StunServer, StunTransport } from "./stun-client.js";
import { ensureLinkemBuilt } from "./test-support.js";
import { turnRestCredentials } from "./turn-credentials.js";

describe("the lab's TURN server", () => {
  let lab: NetLab;
  let board: LabAgent;
  let ca: string;

  beforeAll(async () => {
    ensureLinkemBuilt();
    lab = await startNetLab({
      boardNat: "eim",
      viewerNats: ["none"],
      broker: false,
      turn: { maxAllocateLifetimeS: 60 },
    });
    board = await lab.agent("board");
    ca = await readFile(lab.caFile, "utf8");
  });
  afterAll(async () => {
    await lab.close();
  });

  const server = (transport: StunTransport): StunServer => ({
    address: lab.turn?.address ?? "",
    port: transport === "tls" ? 5349 : 3478,
    transport,
    ca,
  });

  it("hands out its URLs, secret and CA", () => {
    expect(lab.turn).toMatchObject({
      stunUrl: "stun:198.18.0.2:3478",
      urls: {
        udp: "turn:198.18.0.2:3478?transport=udp",
        tcp: "turn:198.18.0.2:3478?transport=tcp",
        tls: "turns:198.18.0.2:5349?transport=tcp",
      },
      maxAllocateLifetimeS: 60,
    });
    expect(lab.turn?.secret).toMatch(/^[0-9a-f]{48}$/);
    expect(ca).toMatch(/BEGIN CERTIFICATE/);
  });

  it.each(["udp", "tcp", "tls"] as const)(
    "answers STUN over %s with the board's public address",
    async (t) => {
      const { mapped } = await board.stunBinding(server(t));
      expect(mapped).toMatch(/^198\.18\.2\.2:\d+$/);
    },
  );

  it("serves TLS with a certificate only the lab CA vouches for", async () => {
    await expect(board.stunBinding({ ...server("tls"), ca: undefined })).rejects.toThrow(
      /self[- ]signed certificate in certificate chain|unable to verify/i,
    );
  });

  it.each(["udp", "tcp", "tls"] as const)(
    "allocates a relay over %s with REST credentials, for at most the configured lifetime",
    async (t) => {
      const creds = lab.turn?.credentials(`test-${t}`, 600);
      const a = await board.turnAllocate(
        server(t),
        creds?.username ?? "",
        creds?.credential ?? "",
        600,
      );
      expect(a.relayed).toMatch(/^198\.18\.0\.2:\d+$/);
      expect(a.mapped).toMatch(/^198\.18\.2\.2:\d+$/);
      // Asked for 600 s; coturn's max-allocate-lifetime caps it.
      expect(a.lifetimeS).toBe(60);
    },
  );

  it("refuses credentials made with another secret, or expired ones", async () => {
    const wrong = turnRestCredentials("not-the-secret", "x", 600);
    await expect(
      board.turnAllocate(server("udp"), wrong.username, wrong.credential),
    ).rejects.toThrow(/allocate refused \(401\)/);
    const expired = turnRestCredentials(lab.turn?.secret ?? "", "x", -60);
    await expect(
      board.turnAllocate(server("udp"), expired.username, expired.credential),
    ).rejects.toThrow(/allocate refused \(401\)/);
  });

  it("logs allocations and their deletion where tests can read them", async () => {
    const log = await readFile(lab.turn?.logFile ?? "", "utf8");
    expect(log).toMatch(/new, realm=<camgw\.lab>, username=<\d+:test-udp>, lifetime=60/);
    expect(log).toMatch(/refreshed, realm=<camgw\.lab>, username=<\d+:test-udp>, lifetime=0/);
  });
});
