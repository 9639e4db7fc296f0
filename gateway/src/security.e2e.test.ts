import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { parsePairing, type PairingCredentials } from "./auth/pairing-link.js";
import { makeSelfSigned } from "./auth/tls-material.js";
import { qrText } from "./commands/pairing-output.js";
import { runProbe } from "./probe/probe.js";
import { ViewerClient } from "./signaling/viewer-client.js";
import { HeadlessViewer } from "./webrtc/receive/headless-viewer.js";
import {
  collect,
  connected,
  publishOutcome,
  subscribeCodes,
  tryConnect,
} from "./testing/mqtt-attacker.js";
import {
  getJson,
  probeLogin,
  startGateway,
  startProbeProcess,
  type GatewayProcess,
  type ProbeProcess,
} from "./testing/gateway-process.js";
import { acceptsTcp } from "./testing/ports.js";
import { sleep, waitUntil } from "./testing/wait-until.js";

/**
 * Issue 10's attacks, each its own test, against `camgw run --source sim`
 * with its embedded broker, while a logged-in viewer ("alice") watches the
 * whole time: every attack fails, and alice's video never freezes. "mallory"
 * is a viewer with an account of her own (the strongest attacker on the
 * LAN short of the owner); "anonymous" has none.
 */
describe("camgw run refuses issue 10's attacks while a viewer keeps watching", () => {
  let gw: GatewayProcess;
  let alice: Awaited<ReturnType<GatewayProcess["addViewer"]>>;
  let mallory: PairingCredentials;
  let watching: ProbeProcess;
  let tlsCa: Buffer;
  const transports = (): [string, string, mqtt.IClientOptions][] => [
    ["TCP", gw.mqttUrl ?? "", {}],
    ["WebSocket", `${gw.httpUrl.replace(/^http/, "ws")}mqtt`, {}],
    ["TLS", gw.mqttsUrl ?? "", { ca: tlsCa }],
  ];

  beforeAll(async () => {
    gw = await startGateway({ args: ["--device-id", "porch", "--max-viewers", "4"] });
    tlsCa = readFileSync(join(gw.stateDir, "tls-cert.pem"));
    const [a, m] = await Promise.all([gw.addViewer("alice"), gw.addViewer("mallory")]);
    alice = a;
    mallory = m;
    watching = startProbeProcess(gw, "porch", a.localUrl);
    // Alice is playing before the first attack.
    await waitUntil(async () =>
      /^camgw_connected_sessions 1$/m.test(String((await getJson(`${gw.httpUrl}metrics`)).body)),
    );
  });

  afterAll(async () => {
    await watching.stop().catch(() => undefined);
    await gw.stop();
  });

  const malloryClient = (clientId = `mallory.${Math.random().toString(36).slice(2)}`) =>
    connected(gw.mqttUrl ?? "", {
      username: mallory.username,
      password: mallory.password,
      clientId,
    });

  it.each(["TCP", "WebSocket", "TLS"])(
    "an anonymous client cannot connect over %s (CONNACK 5, not authorized)",
    async (name) => {
      const [, url, options] = transports().find(([n]) => n === name) ?? ["", "", {}];
      expect(await tryConnect(url, { ...options, clientId: "anon" })).toEqual({ refused: 5 });
    },
  );

  it.each(["TCP", "WebSocket", "TLS"])(
    "a client with a wrong password cannot connect over %s (CONNACK 4)",
    async (name) => {
      const [, url, options] = transports().find(([n]) => n === name) ?? ["", "", {}];
      const wrong = {
        ...options,
        username: alice.username,
        password: "guess",
        clientId: "alice.x",
      };
      expect(await tryConnect(url, wrong)).toEqual({ refused: 4 });
      const nobody = { ...options, username: "nobody", password: "guess", clientId: "nobody" };
      expect(await tryConnect(url, nobody)).toEqual({ refused: 4 });
    },
  );

  it("an anonymous viewer cannot watch the camera", async () => {
    const report = await runProbe({
      ...probeLogin(gw, { username: "", password: "" }),
      deviceId: "porch",
      seconds: 1,
    });
    expect(report.video).toBe(false);
    expect(report.ended).toMatch(/Not authorized|refused|not authorized/i);
  });

  it("subscribing to # (or any other viewer's topic) reads nobody's SDP, ICE credentials or candidates", async () => {
    const client = await malloryClient();
    try {
      const got = collect(client);
      const codes = await subscribeCodes(client, [
        "#",
        "+/#",
        "camgw/#",
        "$SYS/#",
        "camgw/porch/tx/+",
        "camgw/porch/tx/alice",
        "camgw/porch/rx/+",
        "camgw/porch/rx/alice",
      ]);
      expect(codes).toEqual([128, 128, 128, 128, 128, 128, 128, 128]);
      // The owner calls meanwhile: its answer and candidates must not reach mallory.
      expect(await ownerGetsVideo(gw)).toBe(true);
      expect(got).toEqual([]);
    } finally {
      await client.endAsync(true);
    }
  });

  it("a viewer reads only its own answers and the devices' status", async () => {
    const client = await malloryClient();
    try {
      expect(
        await subscribeCodes(client, [
          "camgw/porch/tx/mallory",
          "camgw/+/tx/mallory",
          "camgw/+/status",
        ]),
      ).toEqual([1, 1, 1]);
    } finally {
      await client.endAsync(true);
    }
  });

  it("a viewer cannot end another viewer's call with a bye on that viewer's tx topic", async () => {
    const client = await malloryClient();
    const bye = JSON.stringify({ v: 1, type: "bye", session: "any", reason: "kicked" });
    expect(await publishOutcome(client, "camgw/porch/tx/alice", bye)).toBe("closed");
  });

  it("a viewer cannot stop another viewer's video with a bye or an offer on that viewer's rx topic", async () => {
    for (const message of [
      { v: 1, type: "bye", session: "s1" },
      { v: 1, type: "offer", session: "s1", sdp: "v=0" },
    ]) {
      const client = await malloryClient();
      expect(await publishOutcome(client, "camgw/porch/rx/alice", JSON.stringify(message))).toBe(
        "closed",
      );
    }
  });

  it("a viewer cannot end another viewer's session by naming its session id", async () => {
    // Sessions belong to (viewerId, session): mallory's bye naming alice's
    // session (as the gateway's log names it) is a bye for a session mallory
    // does not have, which spec step 5 ignores.
    const aliceSession = [
      ...gw
        .output()
        .matchAll(new RegExp(`viewer ${alice.username} \\(session (\\S+)\\) connected`, "g")),
    ].at(-1)?.[1];
    expect(aliceSession).toBeDefined();
    const ended = async (): Promise<string | undefined> =>
      /^camgw_sessions_ended_total\{reason="bye"\} (\d+)$/m.exec(
        String((await getJson(`${gw.httpUrl}metrics`)).body),
      )?.[1];
    const byesBefore = await ended();
    const client = await malloryClient();
    try {
      await client.subscribeAsync("camgw/porch/tx/mallory", { qos: 1 });
      const replies = collect(client);
      const bye = JSON.stringify({ v: 1, type: "bye", session: aliceSession });
      expect(await publishOutcome(client, "camgw/porch/rx/mallory", bye)).toBe("acknowledged");
      // A candidate right behind it gets not-found: the device has handled the bye by then.
      const candidate = JSON.stringify({
        v: 1,
        type: "candidate",
        session: aliceSession,
        candidate: null,
      });
      expect(await publishOutcome(client, "camgw/porch/rx/mallory", candidate)).toBe(
        "acknowledged",
      );
      await waitUntil(() => Promise.resolve(replies.length > 0));
      expect(JSON.parse(replies[0]?.payload ?? "{}")).toMatchObject({
        type: "error",
        code: "not-found",
        session: aliceSession,
      });
      expect(await ended()).toBe(byesBefore);
      expect(String((await getJson(`${gw.httpUrl}metrics`)).body)).toMatch(
        /^camgw_connected_sessions 1$/m,
      );
    } finally {
      await client.endAsync(true);
    }
  });

  it("nobody can fake or wipe the retained status", async () => {
    const fake = JSON.stringify({ v: 1, type: "status", online: false });
    for (const [payload, retain] of [
      [fake, true],
      ["", true],
      [fake, false],
    ] as const) {
      const client = await malloryClient();
      expect(await publishOutcome(client, "camgw/porch/status", payload, { retain })).toBe(
        "closed",
      );
    }
    // Nor as a will: the broker checks the will like a publish when it sends it.
    const willed = await connected(gw.mqttUrl ?? "", {
      username: mallory.username,
      password: mallory.password,
      clientId: "mallory.will",
      will: { topic: "camgw/porch/status", payload: Buffer.from(fake), qos: 1, retain: true },
    });
    willed.stream.destroy();
    await sleep(300);
    expect(await deviceOnline(gw)).toBe(true);
  });

  it("nobody can keep a retained message but the device", async () => {
    const client = await malloryClient();
    const offer = JSON.stringify({ v: 1, type: "offer", session: "r1", sdp: "v=0" });
    expect(await publishOutcome(client, "camgw/porch/rx/mallory", offer, { retain: true })).toBe(
      "closed",
    );
  });

  it("nobody can take over the device's client id or another viewer's, and push it off", async () => {
    for (const clientId of ["camgw-device-porch", "alice", "alice.tab", "camgw-device-porch.x"]) {
      expect(
        await tryConnect(gw.mqttUrl ?? "", {
          username: mallory.username,
          password: mallory.password,
          clientId,
        }),
      ).toEqual({ refused: 2 });
    }
    const metrics = String((await getJson(`${gw.httpUrl}metrics`)).body);
    expect(metrics).toMatch(/^camgw_signaling_connected 1$/m);
    expect(metrics).toMatch(/^camgw_signaling_connects_total 1$/m);
  });

  it("one viewer cannot hold every viewer slot with offers that never do ICE", async () => {
    const client = await malloryClient();
    try {
      await client.subscribeAsync("camgw/porch/tx/mallory", { qos: 1 });
      const replies = collect(client);
      // A real offer (werift's, like the probe's), whose ICE never starts: no answer is applied.
      const peer = new HeadlessViewer({ ice: { hostAddresses: ["127.0.0.1"] } });
      const offer = await peer.createOffer();
      await peer.close();
      for (let i = 0; i < 6; i++) {
        await client.publishAsync(
          "camgw/porch/rx/mallory",
          JSON.stringify({ v: 1, type: "offer", session: `hold${i}`, sdp: offer }),
          { qos: 1 },
        );
      }
      // The device trickles candidates on the same topic: count only answers and errors.
      const outcomes = (): { type: string; code?: string }[] =>
        replies
          .map((r) => JSON.parse(r.payload) as { type: string; code?: string })
          .filter((k) => k.type === "answer" || k.type === "error");
      await waitUntil(() => Promise.resolve(outcomes().length >= 6));
      const kinds = outcomes();
      // Two sessions per viewer; the rest are busy.
      expect(kinds.filter((k) => k.type === "answer")).toHaveLength(2);
      expect(kinds.filter((k) => k.code === "busy")).toHaveLength(4);
      // Someone else still gets in while mallory's two sit there.
      expect(await ownerGetsVideo(gw)).toBe(true);
      // And mallory's sessions, which never connect, are freed within ~10 s:
      // bye `timeout`, or `ice-failed` once every check against the offer's
      // (closed) candidates has failed, which the patched werift concludes
      // sooner (docs/werift-patches.md).
      const started = performance.now();
      await waitUntil(
        () =>
          Promise.resolve(
            replies.filter((r) => {
              const reason = (JSON.parse(r.payload) as { reason?: string }).reason;
              return reason === "timeout" || reason === "ice-failed";
            }).length >= 2,
          ),
        20_000,
      );
      console.log(
        `unconnected sessions freed ${Math.round(performance.now() - started)} ms after the owner's call`,
      );
    } finally {
      await client.endAsync(true);
    }
  });

  it("a 50 MiB retained message is refused before the broker buffers it", async () => {
    const client = await malloryClient();
    const huge = Buffer.alloc(50 * 1024 * 1024, 0x20);
    expect(await publishOutcome(client, "camgw/porch/rx/mallory", huge, { retain: true })).toBe(
      "closed",
    );
    client.end(true);
    const health = await getJson(`${gw.httpUrl}healthz`);
    expect(health.status).toBe(200);
  });

  it.each(["TCP", "WebSocket"])(
    "a packet over 70 KB ends its sender's connection over %s though it is not retained; one under it is delivered",
    async (name) => {
      // The 50 MiB message above is also refused for its retain flag: this
      // one is not retained, so only the size limit stands in its way.
      const [, url] = transports().find(([n]) => n === name) ?? ["", ""];
      const padded = (bytes: number): string => {
        const message = { v: 1, type: "bye", session: "pad", pad: "" };
        return JSON.stringify({
          ...message,
          pad: "x".repeat(bytes - JSON.stringify(message).length),
        });
      };
      const login = { username: mallory.username, password: mallory.password };
      const under = await connected(url, { ...login, clientId: "mallory.under" });
      try {
        expect(await publishOutcome(under, "camgw/porch/rx/mallory", padded(60_000))).toBe(
          "acknowledged",
        );
      } finally {
        await under.endAsync(true);
      }
      const over = await connected(url, { ...login, clientId: "mallory.over" });
      expect(await publishOutcome(over, "camgw/porch/rx/mallory", padded(71_000))).toBe("closed");
      over.end(true);
    },
  );

  it("a web page from another origin cannot open /mqtt", async () => {
    const url = `${gw.httpUrl.replace(/^http/, "ws")}mqtt`;
    const evil = await upgradeStatus(url, "http://evil.example");
    expect(evil).toBe(403);
    // The page's own origin (and clients that send none) get through to the login.
    expect(await upgradeStatus(url, gw.httpUrl.replace(/\/$/, ""))).toBe(101);
    expect(await upgradeStatus(url, undefined)).toBe(101);
  });

  it("an offer of 600 media sections without BUNDLE is refused without opening a session", async () => {
    const client = await malloryClient();
    try {
      await client.subscribeAsync("camgw/porch/tx/mallory", { qos: 1 });
      const replies = collect(client);
      const before = String((await getJson(`${gw.httpUrl}metrics`)).body);
      // ~40 KB, like issue 10's 52 KB offer: under the 64 KiB message limit.
      const sections = Array.from(
        { length: 600 },
        (_, i) => `m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:${i}\r\na=rtpmap:102 H264/90000\r\n`,
      ).join("");
      const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n${sections}`;
      // The round trip of a one-line offer refused the same way, for comparison,
      // and the time from the broker's PUBACK (it has the whole offer and has
      // handed it to the device) to the refusal: the device's own work on the
      // 600 sections. The rest of a 40 KB offer's round trip is its transfer
      // from this client, which Nagle's algorithm and the receiver's delayed
      // ACK (40 ms minimum on Linux) stretch on loopback.
      const refusedAfter = async (
        session: string,
        offer: string,
      ): Promise<{ total: number; afterPuback: number }> => {
        // The reply's own event, not a poll (waitUntil's 100 ms steps would be the figure).
        const replied = new Promise<number>((resolve) =>
          client.once("message", () => resolve(performance.now())),
        );
        const started = performance.now();
        await client.publishAsync(
          "camgw/porch/rx/mallory",
          JSON.stringify({ v: 1, type: "offer", session, sdp: offer }),
          { qos: 1 },
        );
        const acked = performance.now();
        const at = await replied;
        return { total: at - started, afterPuback: Math.max(0, at - acked) };
      };
      const small = await refusedAfter("small", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n");
      const flood = await refusedAfter("flood", sdp);
      console.log(
        `600-section offer (${sdp.length} bytes) refused in ${Math.round(flood.total)} ms over MQTT and back, ` +
          `${Math.round(flood.afterPuback)} ms after the broker acknowledged it; ` +
          `a one-section offer's refusal round trip just before: ${Math.round(small.total)} ms`,
      );
      expect(JSON.parse(replies.at(-1)?.payload ?? "{}")).toMatchObject({
        type: "error",
        code: "unsupported",
        session: "flood",
      });
      const after = String((await getJson(`${gw.httpUrl}metrics`)).body);
      // Since the scrape before the two offers (the histogram restarts at each scrape).
      const lagMs = (name: string): number =>
        Math.round(
          Number(
            new RegExp(`^camgw_process_event_loop_lag_${name}_seconds (\\S+)$`, "m").exec(
              after,
            )?.[1],
          ) * 1000,
        );
      console.log(
        `the gateway's event loop meanwhile: delay p99 ${lagMs("p99")} ms, max ${lagMs("max")} ms`,
      );
      expect(created(after)).toBe(created(before));
    } finally {
      await client.endAsync(true);
    }
  });

  it("the viewer that watched through every attack kept playing with no freeze", async () => {
    const report = await watching.stop();
    console.log(
      `alice watched ${report.frames} frames at ${report.fps} fps through every attack: ${report.freezes} freezes (webrtc-stats rule), longest gap ${report.longestGapMs} ms`,
    );
    expect(report).toMatchObject({ video: true, ended: null });
    // No freeze a person notices. The freeze count (printed) also reacts to a
    // busy machine's scheduling; on an idle one it is 0.
    expect(report.longestGapMs).toBeLessThan(1000);
  });

  it("removing a viewer ends its session and its MQTT connections at once", async () => {
    const bob = await gw.addViewer("bob");
    const bobClient = new ViewerClient({
      url: gw.mqttUrl ?? "",
      username: bob.username,
      password: bob.password,
    });
    await bobClient.waitConnected();
    const stop = new AbortController();
    let endedAt = 0;
    const bobWatching = runProbe({
      ...probeLogin(gw, bob),
      deviceId: "porch",
      seconds: 60,
      decode: false,
      signal: stop.signal,
    }).then((r) => {
      endedAt = performance.now();
      return r;
    });
    await waitUntil(async () =>
      /^camgw_connected_sessions 1$/m.test(String((await getJson(`${gw.httpUrl}metrics`)).body)),
    );
    const removed = performance.now();
    await gw.removeViewer("bob");
    const commandMs = performance.now() - removed;
    const report = await bobWatching;
    // From the moment the command changed the accounts file: the command
    // itself is a fresh Node process, whose start-up a busy machine slows.
    const changedAt = statSync(join(gw.stateDir, "viewers.json")).mtimeMs;
    console.log(
      `viewer remove: bob's session ended ${Math.round(performance.timeOrigin + endedAt - changedAt)} ms after viewers.json changed ` +
        `(the command took ${Math.round(commandMs)} ms; the gateway: ${/viewer bob shut out: .*/.exec(gw.output())?.[0] ?? "-"})`,
    );
    stop.abort();
    expect(report.video).toBe(true);
    expect(report.ended).not.toBeNull();
    await waitUntil(() => Promise.resolve(bobClient.state !== "connected"));
    await bobClient.close();
    // And bob cannot come back.
    expect(
      await tryConnect(gw.mqttUrl ?? "", {
        username: "bob",
        password: bob.password,
        clientId: "bob",
      }),
    ).toEqual({
      refused: 4,
    });
  });

  it("serves the page over HTTPS with its certificate and the security headers", async () => {
    const page = await fetchPinned(gw.httpsUrl, tlsCa);
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    // The fingerprint printed at start is the served certificate's, as is viewer add's.
    expect(gw.fingerprint).toBe(new X509Certificate(tlsCa).fingerprint256);
    expect(alice.fingerprint).toBe(gw.fingerprint);
    const health = JSON.parse((await fetchPinned(`${gw.httpsUrl}healthz`, tlsCa)).body) as {
      parts: Record<string, unknown>;
    };
    expect(Object.keys(health.parts)).toEqual(["source", "signaling"]);
    // The first start printed the owner's LAN link, and it as a QR code for a phone.
    const lan = /network, open or scan:\n +(\S+)/.exec(gw.output())?.[1] ?? "";
    expect(parsePairing(lan)).toEqual(gw.owner);
    for (const row of qrText(lan).trimEnd().split("\n")) expect(gw.output()).toContain(row);
  });
});

/**
 * Issue 10's first finding: the service listened on every interface, plain
 * HTTP and MQTT included. Listening on a LAN address (127.0.0.2 stands in
 * for one, on loopback), HTTPS and MQTT over TLS are there; plain HTTP and
 * MQTT stay on 127.0.0.1 unless config asks for them on the LAN. HTTPS
 * serves the user's own certificate when one is given.
 */
describe("camgw run on a network address", () => {
  let dir: string;
  let mine: { cert: string; key: string; fingerprint: string };
  const files = () => ({ cert: join(dir, "camera.crt"), key: join(dir, "camera.key") });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-lan-"));
    mine = await makeSelfSigned({ dns: ["camera.test"], ip: ["127.0.0.2"] });
    await writeFile(files().cert, mine.cert);
    await writeFile(files().key, mine.key);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["keeps plain HTTP and MQTT on 127.0.0.1", false],
    ["serves plain HTTP and MQTT there too with allow-plain-lan", true],
  ])("%s, and HTTPS with the user's certificate", async (_name, plainLan) => {
    const gw = await startGateway({
      loopback: false,
      args: [
        ...["--listen", "127.0.0.2", "--ice-host-addresses", "127.0.0.1"],
        ...["--tls-cert", files().cert, "--tls-key", files().key],
        ...(plainLan ? ["--allow-plain-lan"] : []),
      ],
    });
    try {
      const [lan, local] = plainLan ? ["127.0.0.2", "127.0.0.1"] : ["127.0.0.1", "127.0.0.2"];
      const port = (url: string | undefined): number => Number(new URL(url ?? "").port);
      for (const plain of [port(gw.httpUrl), port(gw.mqttUrl)]) {
        expect(await acceptsTcp(plain, lan), `${lan}:${plain}`).toBe(true);
        expect(await acceptsTcp(plain, local), `${local}:${plain}`).toBe(false);
      }
      for (const secure of [port(gw.httpsUrl), port(gw.mqttsUrl)]) {
        expect(await acceptsTcp(secure, "127.0.0.2"), `127.0.0.2:${secure}`).toBe(true);
        expect(await acceptsTcp(secure, "127.0.0.1"), `127.0.0.1:${secure}`).toBe(false);
      }
      expect(gw.fingerprint).toBe(mine.fingerprint);
      const page = await fetchPinned(
        `https://127.0.0.2:${port(gw.httpsUrl)}/`,
        Buffer.from(mine.cert),
      );
      expect(page.status).toBe(200);
      if (plainLan) expect(gw.output()).toMatch(/allow-plain-lan: plain HTTP and MQTT are served/);
    } finally {
      await gw.stop();
    }
  });
});

/** Whether the owner, calling meanwhile, gets a first frame from the "porch" device. */
async function ownerGetsVideo(gw: GatewayProcess): Promise<boolean> {
  const owner = await runProbe({
    ...probeLogin(gw),
    deviceId: "porch",
    // Until its first frame: a busy machine may take over a second to it.
    seconds: 10,
    untilFirstFrame: true,
    decode: false,
  });
  return owner.video;
}

async function deviceOnline(gw: GatewayProcess): Promise<boolean> {
  const client = new ViewerClient({ url: gw.mqttUrl ?? "", ...gw.owner });
  try {
    await client.waitConnected();
    await waitUntil(() => Promise.resolve(client.devices.has("porch")));
    return client.devices.get("porch")?.online === true;
  } finally {
    await client.close();
  }
}

function created(metrics: string): number {
  return Number(/^camgw_sessions_created_total (\d+)$/m.exec(metrics)?.[1] ?? NaN);
}

/** The HTTP status a WebSocket upgrade gets (101 when it is accepted). */
function upgradeStatus(url: string, origin: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, "mqtt", origin === undefined ? {} : { origin });
    ws.once("upgrade", (res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

/** GET over HTTPS trusting only the gateway's own certificate (as a pinned CA). */
function fetchPinned(
  url: string,
  ca: Buffer,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}
