import { once } from "node:events";
import wrtc from "@roamhq/wrtc";
import { RTCPeerConnection, useH264, useOPUS, useVP8 } from "werift";
import { describe, expect, it } from "vitest";
import { CamgwError } from "../errors.js";
import type { ByeReason } from "../signaling/session-host.js";
import { useManagerBench } from "./testing/manager-bench.js";
import { nextFrame, waitFor } from "./testing/harness.js";

const bench = useManagerBench();

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CamgwError) return error.code;
    throw error;
  }
  throw new Error("the offer was accepted");
}

describe("SessionManager offers", () => {
  it("answers unsupported to a libwebrtc offer without H.264 and stays healthy", async () => {
    bench.setUp();
    const pc = new wrtc.RTCPeerConnection();
    pc.addTransceiver("video", { direction: "recvonly" });
    const offer = await pc.createOffer();
    pc.close();
    expect(offer.sdp).not.toMatch(/H264/i);
    const code = await refusal(
      bench.manager.offer({ viewerId: "lib", session: "s1", sdp: offer.sdp ?? "", stream: "main" }),
    );
    expect(code).toBe("unsupported");
    expect(bench.manager.sessionCount).toBe(0);
    const { viewer } = await bench.connect("v1");
    expect((await nextFrame(viewer)).keyframe).toBe(true);
    expect(bench.manager.stats.offersRefused).toEqual({ unsupported: 1 });
  });

  it("answers bad-request to SDP that does not parse", async () => {
    bench.setUp();
    expect(
      await refusal(
        bench.manager.offer({ viewerId: "v", session: "s", sdp: "not sdp", stream: "main" }),
      ),
    ).toBe("bad-request");
    const broken = (await bench.offer()).replace(/^m=video .*$/m, "m=video");
    expect(
      await refusal(
        bench.manager.offer({ viewerId: "v", session: "s", sdp: broken, stream: "main" }),
      ),
    ).toBe("bad-request");
    expect(bench.manager.sessionCount).toBe(0);
  });

  it("answers unsupported to an unknown stream and to an offer without video", async () => {
    bench.setUp();
    const sdp = await bench.offer();
    expect(
      await refusal(bench.manager.offer({ viewerId: "v", session: "s", sdp, stream: "side" })),
    ).toBe("unsupported");
    const audioOnly = sdp.replace(/^m=video /m, "m=audio ");
    expect(
      await refusal(
        bench.manager.offer({ viewerId: "v", session: "s", sdp: audioOnly, stream: "main" }),
      ),
    ).toBe("unsupported");
    expect(bench.manager.sessionCount).toBe(0);
    expect(bench.source.startCount).toBe(0);
  });

  it("refuses a baseline-only viewer for a stream declared High profile", async () => {
    bench.setUp({ profileLevelIds: { main: "640028" } });
    const code = await refusal(
      bench.manager.offer({
        viewerId: "v",
        session: "s",
        sdp: await bench.offer(),
        stream: "main",
      }),
    );
    expect(code).toBe("unsupported");
  });

  it("answers busy at the viewer limit, counting sessions still negotiating", async () => {
    bench.setUp({ maxViewers: 2 });
    await bench.manager.offer({
      viewerId: "a",
      session: "s1",
      sdp: await bench.offer(),
      stream: "main",
    });
    await bench.manager.offer({
      viewerId: "b",
      session: "s1",
      sdp: await bench.offer(),
      stream: "main",
    });
    expect(bench.manager.sessionCount).toBe(2);
    const code = await refusal(
      bench.manager.offer({
        viewerId: "c",
        session: "s1",
        sdp: await bench.offer(),
        stream: "main",
      }),
    );
    expect(code).toBe("busy");
    expect(bench.manager.sessionCount).toBe(2);
  });

  it("does not count a replacing offer twice, and replaces without an ended event", async () => {
    bench.setUp({ maxViewers: 2 });
    const ended: unknown[] = [];
    bench.manager.on("ended", (...args) => ended.push(args));
    await bench.connect("a");
    await bench.connect("b");
    const replaced = await bench.connect("a");
    expect(bench.manager.sessionCount).toBe(2);
    expect((await nextFrame(replaced.viewer)).keyframe).toBe(true);
    expect(ended).toEqual([]);
    expect(bench.manager.stats.sessionsEnded["replaced-silently"]).toBe(1);
  });

  it("answers within the spec's second and trickles candidates after the answer, ending with null", async () => {
    bench.setUp();
    const order: string[] = [];
    bench.manager.on("candidate", (_v, _s, c) => order.push(c === null ? "end" : "candidate"));
    const sdp = await bench.offer();
    const started = performance.now();
    const answer = await bench.manager.offer({ viewerId: "v", session: "s", sdp, stream: "main" });
    const tookMs = performance.now() - started;
    order.push("answer");
    expect(answer).toMatch(/^v=0\r\n/);
    expect(answer).toMatch(/a=rtpmap:\d+ h264\/90000/i);
    expect(answer).toMatch(/packetization-mode=1/);
    expect(answer).toMatch(/a=sendonly/);
    expect(answer).toMatch(/a=setup:passive/); // the viewer is the DTLS client (see werift/dtls-role.ts)
    expect(tookMs).toBeLessThan(1000); // the spec's limit, not a speed benchmark
    await waitFor(() => order.includes("end"));
    expect(order[0]).toBe("answer");
    expect(order.filter((o) => o === "candidate").length).toBeGreaterThan(0);
    expect(order.at(-1)).toBe("end");
    // Loopback only, as configured: no STUN (werift's default Google server is cleared).
    expect(bench.manager.sessionCount).toBe(1);
  });

  it("answers an offer that also has audio and a second video section, sending H.264 in one", async () => {
    bench.setUp();
    const pc = new RTCPeerConnection({
      codecs: { audio: [useOPUS()], video: [useVP8(), useH264()] },
      iceServers: [],
    });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("video", { direction: "recvonly" });
    const offer = await pc.createOffer();
    await pc.close();
    const answer = await bench.manager.offer({
      viewerId: "v",
      session: "s",
      sdp: offer.sdp,
      stream: "main",
    });
    const sections = answer.split(/\r\n(?=m=)/).slice(1);
    expect(sections.length).toBe(3);
    expect(sections[0]).toMatch(/^m=audio /);
    expect(sections[0]).toMatch(/a=inactive/);
    expect(sections.filter((m) => /a=sendonly/.test(m) && /h264\/90000/i.test(m)).length).toBe(1);
    expect(bench.manager.sessionCount).toBe(1);
  });

  it("does not wait for an mDNS candidate before answering", async () => {
    bench.setUp();
    const sdp = await bench.offer();
    const pending = bench.manager.offer({ viewerId: "v", session: "s", sdp, stream: "main" });
    expect(
      bench.manager.addCandidate("v", "s", {
        candidate:
          "candidate:1 1 udp 2122260223 0b1c4a7e-2f3d-4c5e-9a7b-1234567890ab.local 54321 typ host",
        sdpMid: "0",
        sdpMLineIndex: 0,
      }),
    ).toBe(true);
    const started = performance.now();
    await pending;
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("SessionManager session lifetime", () => {
  it("frees a session on bye without an ended event", async () => {
    bench.setUp();
    const ended: unknown[] = [];
    bench.manager.on("ended", (...a) => ended.push(a));
    await bench.connect("v1");
    bench.manager.bye("v1", "s1");
    bench.manager.bye("v1", "s1");
    expect(bench.manager.sessionCount).toBe(0);
    expect(bench.manager.addCandidate("v1", "s1", null)).toBe(false);
    expect(ended).toEqual([]);
  });

  it("ends a viewer that vanished with reason timeout", async () => {
    bench.setUp({ livenessTimeoutMs: 1500 });
    const { viewer } = await bench.connect("v1");
    await nextFrame(viewer);
    const ended = once(bench.manager, "ended");
    await viewer.vanish();
    const started = performance.now();
    expect(await ended).toEqual(["v1", "s1", "timeout"]);
    expect(performance.now() - started).toBeGreaterThan(1000);
    expect(bench.manager.sessionCount).toBe(0);
    await waitFor(() => !bench.source.running);
  });

  it("keeps a quiet but present viewer alive past the timeout (consent and RTCP count)", async () => {
    bench.setUp({ livenessTimeoutMs: 2500 });
    const { viewer } = await bench.connect("v1");
    await nextFrame(viewer);
    const ended: unknown[] = [];
    bench.manager.on("ended", (...a) => ended.push(a));
    await new Promise((r) => setTimeout(r, 6000));
    expect(ended).toEqual([]);
    expect(bench.manager.sessionCount).toBe(1);
  });

  it("ends every session with reason shutdown on close, once", async () => {
    bench.setUp();
    await bench.connect("v1");
    await bench.connect("v2");
    const reasons: ByeReason[] = [];
    bench.manager.on("ended", (_v, _s, r) => reasons.push(r));
    await bench.manager.close();
    await bench.manager.close();
    expect(reasons).toEqual(["shutdown", "shutdown"]);
    expect(bench.manager.sessionCount).toBe(0);
    expect(bench.source.running).toBe(false);
    expect(bench.source.listenerCount("frame")).toBe(0);
    expect(
      await refusal(
        bench.manager.offer({
          viewerId: "v",
          session: "s",
          sdp: await bench.offer(),
          stream: "main",
        }),
      ),
    ).toBe("internal");
  });
});
