import { createServer, type Server } from "node:http";
import mqtt from "mqtt";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedBroker } from "./broker.js";
import type { IceCandidate } from "./messages.js";
import { FIXED_ANSWER, FixedAnswerHost, GOOD_OFFER } from "./testing/fixed-answer-host.js";
import { MqttDevice, STATUS } from "./testing/mqtt-device.js";
import { waitFor } from "./testing/wait-for.js";
import { CallError, ViewerClient, type CallEndCause, type DeviceState } from "./viewer-client.js";

let broker: EmbeddedBroker;
let host: FixedAnswerHost;
let device: MqttDevice;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  broker = await EmbeddedBroker.start({ host: "127.0.0.1", port: 0, wsPort: 0 });
  host = new FixedAnswerHost(2);
  device = await new MqttDevice({ url: `mqtt://127.0.0.1:${broker.port}`, host }).start();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await device.close();
  await broker.close();
});

async function viewer(
  url = `mqtt://127.0.0.1:${broker.port}`,
  answerTimeoutMs = 5000,
): Promise<ViewerClient> {
  const client = new ViewerClient({ url, answerTimeoutMs, mqttOptions: { reconnectPeriod: 100 } });
  cleanups.push(() => client.close());
  await client.waitConnected();
  return client;
}

describe("ViewerClient device list", () => {
  it("lists devices from their retained status and sees them go offline", async () => {
    const client = await viewer();
    await waitFor(() => client.devices.get("porch")?.online === true);
    expect(client.devices.get("porch")).toMatchObject({
      deviceId: "porch",
      online: true,
      ...STATUS,
    });
    const seen: DeviceState[] = [];
    client.on("device", (d) => seen.push(d));
    host.close();
    await device.close();
    await waitFor(() => seen.length > 0);
    // Offline keeps the name and streams it had, for the list.
    expect(seen[0]).toMatchObject({ deviceId: "porch", online: false, name: "Porch" });
  });

  it("gives each instance its own random viewerId unless told one", async () => {
    const a = await viewer();
    const b = await viewer();
    expect(a.viewerId).not.toBe(b.viewerId);
    const c = new ViewerClient({ url: `mqtt://127.0.0.1:${broker.port}`, viewerId: "me" });
    cleanups.push(() => c.close());
    expect(c.viewerId).toBe("me");
    expect(() => new ViewerClient({ url: "mqtt://127.0.0.1:1", viewerId: "not ok" })).toThrow(
      /viewerId/,
    );
  });
});

describe("ViewerClient connection", () => {
  it("rejects waitConnected when the broker refuses the credentials", async () => {
    const secured = await EmbeddedBroker.start({
      host: "127.0.0.1",
      port: 0,
      username: "u",
      password: "p",
    });
    cleanups.push(() => secured.close());
    const client = new ViewerClient({
      url: `mqtt://127.0.0.1:${secured.port}`,
      username: "u",
      password: "wrong",
      mqttOptions: { reconnectPeriod: 0 },
    });
    cleanups.push(() => client.close());
    await expect(client.waitConnected(5000)).rejects.toMatchObject({ code: 4 });
  });

  it("keeps waiting while the broker is unreachable, then times out", async () => {
    const client = new ViewerClient({
      url: "mqtt://127.0.0.1:1",
      mqttOptions: { reconnectPeriod: 50 },
    });
    cleanups.push(() => client.close());
    await expect(client.waitConnected(400)).rejects.toThrow(
      /not connected to the broker within 400 ms/,
    );
  });
});

describe("ViewerClient calls", () => {
  it("gets the answer, the device's candidates ending with null, and sends its own and bye", async () => {
    const client = await viewer();
    const call = client.call("porch", { sdp: GOOD_OFFER });
    const remote: (IceCandidate | null)[] = [];
    call.on("candidate", (c) => remote.push(c));
    // Sent before the offer is out: it must still reach the device after the offer.
    const local = { candidate: "candidate:9 1 udp 1 127.0.0.1 6000 typ host", sdpMid: "0" };
    call.sendCandidate(local);
    expect(await call.answer).toBe(FIXED_ANSWER);
    await waitFor(() => remote.length === 2);
    expect(remote).toEqual([host.localCandidates[0], null]);
    const key = `${client.viewerId}/${call.session}`;
    await waitFor(() => host.sessions.get(key)?.remoteCandidates.length === 1);
    expect(host.sessions.get(key)?.remoteCandidates).toEqual([local]);
    const ended: CallEndCause[] = [];
    call.on("ended", (cause) => ended.push(cause));
    call.hangup();
    call.hangup();
    await waitFor(() => host.sessionCount === 0);
    expect(ended).toEqual(["hangup"]);
  });

  it("renegotiates the same session without a second viewer slot", async () => {
    const client = await viewer();
    const call = client.call("porch", { sdp: GOOD_OFFER });
    await call.answer;
    expect(await call.renegotiate(GOOD_OFFER)).toBe(FIXED_ANSWER);
    expect(host.sessionCount).toBe(1);
    expect(host.sessions.get(`${client.viewerId}/${call.session}`)?.offers).toBe(2);
  });

  it("rejects the answer with a typed busy error at the viewer limit", async () => {
    const client = await viewer();
    await client.call("porch", { sdp: GOOD_OFFER }).answer;
    await client.call("porch", { sdp: GOOD_OFFER }).answer;
    const third = client.call("porch", { sdp: GOOD_OFFER });
    const error = await third.answer.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallError);
    expect(error).toMatchObject({ code: "busy", message: "2 viewers already" });
    expect(third.ended).toBe(true);
  });

  it("rejects with unsupported when the offer has no H.264 video", async () => {
    const client = await viewer();
    const call = client.call("porch", { sdp: "v=0\r\nm=audio 9 RTP/AVP 0\r\n" });
    await expect(call.answer).rejects.toMatchObject({ code: "unsupported" });
  });

  it("times out when no device answers, and tells the device bye", async () => {
    const client = await viewer(undefined, 300);
    const call = client.call("nobody", { sdp: GOOD_OFFER });
    await expect(call.answer).rejects.toMatchObject({ code: "timeout" });
    expect(call.ended).toBe(true);
  });

  it("sends the offer again when its device comes back, if it was away while the answer was awaited", async () => {
    const client = await viewer(undefined, 5000);
    await waitFor(() => client.devices.get("porch")?.online === true);
    host.close();
    await device.close();
    await waitFor(() => client.devices.get("porch")?.online === false);
    // Published while the device is away: MQTT keeps it for nobody.
    const call = client.call("porch", { sdp: GOOD_OFFER });
    await new Promise((r) => setTimeout(r, 300));
    host = new FixedAnswerHost(2);
    device = await new MqttDevice({ url: `mqtt://127.0.0.1:${broker.port}`, host }).start();
    expect(await call.answer).toBe(FIXED_ANSWER);
    expect(host.offerCalls).toBe(1);
  });

  it("ends the call with the device's bye reason", async () => {
    const client = await viewer();
    const call = client.call("porch", { sdp: GOOD_OFFER });
    await call.answer;
    const ended = new Promise<CallEndCause>((resolve) => call.once("ended", resolve));
    host.end(client.viewerId, call.session, "source-lost");
    expect(await ended).toBe("source-lost");
  });

  it("reports a late error reply on the call without ending it", async () => {
    const client = await viewer();
    const call = client.call("porch", { sdp: GOOD_OFFER });
    await call.answer;
    host.sessions.clear();
    const error = new Promise<CallError>((resolve) => call.once("error", resolve));
    call.sendCandidate(null);
    expect(await error).toMatchObject({ code: "not-found" });
    expect(call.ended).toBe(false);
  });

  it("hangs up its calls on close", async () => {
    const client = await viewer();
    await client.call("porch", { sdp: GOOD_OFFER }).answer;
    await client.close();
    await client.close();
    await waitFor(() => host.sessionCount === 0);
    expect(client.state).toBe("closed");
  });
});

describe("ViewerClient ICE servers and restarts", () => {
  it("gets the device's ICE servers before its answer, and keeps them for the next call", async () => {
    const client = await viewer();
    expect(client.cachedIceServers("porch")).toBeUndefined();
    const call = client.call("porch", { sdp: GOOD_OFFER });
    let answered = false;
    void call.answer.then(() => (answered = true));
    const servers = await call.iceServers;
    expect(answered).toBe(false);
    expect(servers).toEqual([
      { urls: ["stun:127.0.0.1:3478"] },
      { urls: ["turn:127.0.0.1:3478"], username: `9999999999:${client.viewerId}`, credential: "c" },
    ]);
    expect(client.cachedIceServers("porch")).toEqual(servers);
    await call.answer;
    // Every offer asks again, so the cache stays fresh.
    await call.renegotiate(GOOD_OFFER);
    await waitFor(() => host.iceServerCalls.length === 2);
  });

  it("settles the servers as null when a device that does not know the request answers", async () => {
    // A device of before the ice-servers message: it answers offers and ignores the rest.
    const old = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`);
    cleanups.push(() => old.endAsync());
    await old.subscribeAsync("camgw/old/rx/+", { qos: 1 });
    old.on("message", (topic, payload) => {
      const msg = JSON.parse(payload.toString()) as { type: string; session: string };
      if (msg.type !== "offer") return;
      const tx = topic.replace("/rx/", "/tx/");
      void old.publishAsync(
        tx,
        JSON.stringify({ v: 1, type: "answer", session: msg.session, sdp: FIXED_ANSWER }),
        { qos: 1 },
      );
    });
    const client = await viewer();
    const call = client.call("old", { sdp: GOOD_OFFER });
    expect(await call.iceServers).toBeNull();
    expect(await call.answer).toBe(FIXED_ANSWER);
    expect(client.cachedIceServers("old")).toBeUndefined();
  });

  it("hears the device ask for an ICE restart on the call", async () => {
    const client = await viewer();
    const call = client.call("porch", { sdp: GOOD_OFFER });
    await call.answer;
    const asked = new Promise<string>((resolve) => call.once("ice-restart", resolve));
    host.askRestart(client.viewerId, call.session, "address-changed");
    expect(await asked).toBe("address-changed");
    expect(call.ended).toBe(false);
  });
});

describe("ViewerClient over WebSocket", () => {
  it("calls through the broker's own WebSocket port", async () => {
    const client = await viewer(`ws://127.0.0.1:${broker.wsPort}/mqtt`);
    expect(await client.call("porch", { sdp: GOOD_OFFER }).answer).toBe(FIXED_ANSWER);
  });

  it("calls through /mqtt on an HTTP server the broker is attached to", async () => {
    const server: Server = createServer((_req, res) => res.end("viewer page"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const detach = broker.attachTo(server, "/mqtt");
    cleanups.push(async () => {
      detach();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const client = await viewer(`ws://127.0.0.1:${port}/mqtt`);
    await waitFor(() => client.devices.has("porch"));
    expect(await client.call("porch", { sdp: GOOD_OFFER }).answer).toBe(FIXED_ANSWER);
  });
});
