import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  MediaStreamTrack,
  RtpHeader,
  RtpPacket,
  TurnProtocol,
  createTurnClient,
  useVP8,
  type RTCPeerConnection,
} from "werift";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTlsMaterial } from "../../testing/mosquitto.js";
import { Coturn } from "./testing/coturn.js";
import { loopbackPeer, noStun, settled } from "./testing/peers.js";
import { StunRelay } from "./testing/stun-relay.js";

/**
 * werift patch 4 (docs/werift-patches.md), RFC 8656: werift 0.24.4 let a
 * relayed call die when its TURN channel binding or permission lapsed (it
 * never refreshed permissions, and re-bound a channel only after 500 s),
 * dropped the server's 438 (stale nonce) answers, and never released an
 * allocation. coturn here grants short lifetimes so the calls outlive each
 * of them; werift's refresh periods (RFC values by default) are shortened
 * to match, as they would be for a server configured like this one.
 */

const LIFETIMES = { allocationLifetime: 20, permissionLifetime: 20, channelLifetime: 30 };
/** Past every lifetime above, with a refresh of each due on the way. */
const CALL_SECONDS = 40;

let coturn: Coturn;
let tlsDir: string;
const saved = {
  permission: TurnProtocol.PermissionRefreshTime,
  channel: TurnProtocol.ChannelRefreshTime,
};

beforeAll(async () => {
  tlsDir = await mkdtemp(join(tmpdir(), "camgw-turn-tls-"));
  coturn = await Coturn.start({
    ...LIFETIMES,
    staleNonce: 10,
    tls: await makeTlsMaterial(tlsDir),
  });
  TurnProtocol.PermissionRefreshTime = 8;
  TurnProtocol.ChannelRefreshTime = 12;
});

afterAll(async () => {
  TurnProtocol.PermissionRefreshTime = saved.permission;
  TurnProtocol.ChannelRefreshTime = saved.channel;
  await coturn.stop();
  await rm(tlsDir, { recursive: true, force: true });
});

interface RelayedCall {
  gateway: RTCPeerConnection;
  viewer: RTCPeerConnection;
  username: string;
  received: () => number;
  close: () => Promise<void>;
}

/**
 * A gateway-like werift peer that may only use its TURN relay sends RTP
 * (one packet every 50 ms) to a viewer on 127.0.0.1 that only has host
 * candidates: every packet crosses coturn.
 */
async function relayedCall(url: string, user: string, ca?: Buffer): Promise<RelayedCall> {
  const { username, credential } = coturn.credentials(user);
  const gateway = loopbackPeer({
    iceServers: [{ urls: url, username, credential }],
    iceTransportPolicy: "relay",
    turnTlsOptions: ca ? { ca } : undefined,
    codecs: { video: [useVP8()] },
  });
  const viewer = loopbackPeer({ codecs: { video: [useVP8()] } });
  const track = new MediaStreamTrack({ kind: "video" });
  gateway.addTransceiver(track, { direction: "sendonly" });
  viewer.addTransceiver("video", { direction: "recvonly" });
  let received = 0;
  viewer.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => received++));
  noStun(viewer);
  await viewer.setLocalDescription(await viewer.createOffer());
  await gateway.setRemoteDescription({ type: "offer", sdp: viewer.localDescription?.sdp ?? "" });
  noStun(gateway, { iceServers: [{ urls: url }] });
  const connected = Promise.all([settled(gateway), settled(viewer)]);
  await gateway.setLocalDescription(await gateway.createAnswer());
  const answer = gateway.localDescription?.sdp ?? "";
  expect(answer).toMatch(/ typ relay /);
  expect(answer).not.toMatch(/ typ host /);
  await viewer.setRemoteDescription({ type: "answer", sdp: answer });
  expect(await connected).toEqual(["connected", "connected"]);
  let sequenceNumber = 0;
  const timer = setInterval(() => {
    sequenceNumber = (sequenceNumber + 1) & 0xffff;
    const header = new RtpHeader({
      payloadType: 96,
      sequenceNumber,
      timestamp: sequenceNumber * 4500,
      ssrc: 0x1234,
      marker: true,
    });
    track.writeRtp(new RtpPacket(header, Buffer.alloc(100, 1)));
  }, 50);
  return {
    gateway,
    viewer,
    username,
    received: () => received,
    close: async () => {
      clearInterval(timer);
      await gateway.close();
      await viewer.close();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** RFC 8656 section 17: the Refresh method. */
const REFRESH = 0x004;

/** coturn's log for `username`'s allocations, once every one of them was deleted (or 5 s passed). */
async function sessionsOnceDeleted(username: string): ReturnType<Coturn["sessions"]> {
  let sessions = await coturn.sessions(username);
  for (let i = 0; i < 50 && !sessions.every((s) => s.events.includes("delete")); i++) {
    await sleep(100);
    sessions = await coturn.sessions(username);
  }
  return sessions;
}

describe("werift's TURN allocations", () => {
  for (const transport of ["udp", "tcp"] as const) {
    it(`are released when closed (${transport})`, async () => {
      const { username, credential } = coturn.credentials(`release-${transport}`);
      const turn = await createTurnClient(
        { address: ["127.0.0.1", coturn.port], username, password: credential },
        { transport },
      );
      expect(turn.relayedAddress[0]).toBe("127.0.0.1");
      await turn.close();
      const sessions = await sessionsOnceDeleted(username);
      expect(sessions.map((s) => s.events)).toEqual([["new", "refresh 0", "delete"]]);
    });
  }

  it("send nothing after their release, even with a refresh still retrying when closed", async () => {
    // The network loses the answers to the refresh and is slow to answer
    // the release: the refresh is still being retransmitted (werift's STUN
    // RTO starts at 50 ms and doubles) when close() releases the allocation.
    const relay = await StunRelay.start(coturn.port, (request) => {
      if (request.method !== REFRESH) return "pass";
      return request.lifetime === 0 ? { holdMs: 300 } : "drop";
    });
    try {
      const { username, credential } = coturn.credentials("release-while-refreshing");
      const turn = await createTurnClient(
        { address: ["127.0.0.1", relay.port], username, password: credential },
        { transport: "udp" },
      );
      const refreshes = (): number =>
        relay.requests.filter((r) => r.method === REFRESH && r.lifetime !== 0).length;
      // The patched client's own refresh, due now (werift patch 4).
      (
        turn as unknown as { scheduleAllocationRefresh(seconds: number): void }
      ).scheduleAllocationRefresh(0);
      for (let i = 0; i < 100 && refreshes() < 2; i++) await sleep(20);
      expect(refreshes(), "the refresh was retransmitted").toBeGreaterThanOrEqual(2);
      await turn.close();
      await sleep(500);
      const release = relay.requests.findIndex((r) => r.method === REFRESH && r.lifetime === 0);
      expect(release, "close() sent a release").toBeGreaterThan(0);
      // After the release only the release itself, retransmitted.
      const after = relay.requests
        .slice(release)
        .map((r) => `${String(r.method)} ${String(r.lifetime)}`);
      expect(new Set(after)).toEqual(new Set([`${String(REFRESH)} 0`]));
      const sessions = await sessionsOnceDeleted(username);
      expect(sessions.map((s) => s.events.at(-1))).toEqual(["delete"]);
    } finally {
      relay.close();
    }
  });

  it(
    "keep a relayed call flowing past their lifetimes over UDP, TCP and TLS, and are released on close",
    { timeout: 120_000 },
    async () => {
      const ca = await readFile(join(tlsDir, "ca.crt"));
      const calls = await Promise.all([
        relayedCall(`turn:127.0.0.1:${coturn.port}`, "udp"),
        relayedCall(`turn:127.0.0.1:${coturn.port}?transport=tcp`, "tcp"),
        relayedCall(`turns:127.0.0.1:${String(coturn.tlsPort)}`, "tls", ca),
      ]);
      try {
        await sleep((CALL_SECONDS - 5) * 1000);
        const before = calls.map((c) => c.received());
        await sleep(5000);
        // 100 packets were sent to each in these 5 s; media still flows.
        for (const [i, call] of calls.entries()) {
          expect(call.received() - (before[i] ?? 0), call.username).toBeGreaterThan(50);
          expect(call.gateway.connectionState).toBe("connected");
        }
      } finally {
        for (const call of calls) await call.close();
      }

      for (const call of calls) {
        const sessions = await sessionsOnceDeleted(call.username);
        // One allocation per call (the relay-only gateway's).
        expect(sessions.length, call.username).toBe(1);
        const [session] = sessions;
        const events = session?.events ?? [];
        const count = (event: string): number => events.filter((e) => e === event).length;
        // The allocation was refreshed before each expiry, through stale nonces.
        expect(count(`refresh ${LIFETIMES.allocationLifetime}`), call.username).toBeGreaterThan(1);
        // Permissions and the channel binding were refreshed, not only installed.
        expect(count("permission"), call.username).toBeGreaterThan(1);
        expect(count("channel-bind"), call.username).toBeGreaterThan(1);
        // close() released it: Refresh with LIFETIME 0 (RFC 8656 section 8), then coturn deleted it.
        expect(events.slice(-2), call.username).toEqual(["refresh 0", "delete"]);
      }
    },
  );
});
