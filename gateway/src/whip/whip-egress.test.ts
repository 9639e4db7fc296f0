import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EgressError } from "../errors.js";
import { startJanusWhip, type JanusWhip } from "../testing/janus.js";
import { freePort } from "../testing/ports.js";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";
import { ClipSource } from "../webrtc/testing/clip-source.js";
import { connectViewer, LOOPBACK, nextFrame, waitFor } from "../webrtc/testing/harness.js";
import { SessionManager } from "../webrtc/session-manager.js";
import { WhipEgress } from "./whip-egress.js";

/**
 * The WHIP egress in-process, against the real simple-whip-server + Janus
 * (gateway/src/testing/janus.ts); the browser test (web-viewer/test/
 * whip-janus.test.ts) shows the pushed stream arriving and the server
 * restarting.
 */

let clip: ClipAccessUnit[];
let media: JanusWhip;
let source: ClipSource;
let manager: SessionManager;
const egresses: WhipEgress[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 30, gop: 30 });
  media = await startJanusWhip();
}, 60_000);

afterAll(async () => {
  await media.stop();
});

afterEach(async () => {
  for (const e of egresses.splice(0)) await e.close();
  await manager.close();
  await source.close();
});

function setUp(url: string, token: string, maxViewers = 8): WhipEgress {
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  manager = new SessionManager({ streams: { main: source }, ice: LOOPBACK, maxViewers });
  const egress = new WhipEgress({ url, token, host: manager, backoff: { minMs: 100, maxMs: 400 } });
  egresses.push(egress);
  return egress;
}

/** How often simple-whip-server has logged ending the endpoint's session (a DELETE). */
function terminations(server: JanusWhip): number {
  return server.output().split("[camgw] Terminating WHIP session").length - 1;
}

function failures(egress: WhipEgress, n: number): Promise<EgressError[]> {
  const seen: EgressError[] = [];
  return new Promise((resolve) => {
    egress.on("failed", (error) => {
      seen.push(error);
      if (seen.length === n) resolve(seen);
    });
  });
}

describe("WHIP egress", () => {
  it("pushes as one more sink on the stream: starts the camera, stops it after close(), which DELETEs", async () => {
    const egress = setUp(media.whipUrl, media.token, 1);
    const pushing = new Promise<void>((resolve) => egress.once("pushing", resolve));
    expect(source.running).toBe(false);
    egress.start();
    await pushing;
    expect(egress.state).toBe("pushing");
    expect(source.running).toBe(true);
    expect(manager.stats.sessionsByTransport).toEqual({ whip: 1 });
    // Not a viewer of this gateway: the viewer limit (1 here) does not count it.
    const viewer = await connectViewer(manager, "v1", "s1");
    expect((await nextFrame(viewer.viewer)).keyframe).toBe(true);
    manager.bye("v1", "s1");
    await viewer.viewer.close();
    const before = terminations(media);
    await egress.close();
    // simple-whip-server logs the DELETE it answered (its stdout may trail the reply a little).
    await waitFor(() => terminations(media) === before + 1);
    await waitFor(() => manager.sessionCount === 0);
    await waitFor(() => !source.running);
    expect(egress.stats).toEqual({ attempts: 1, connects: 1, failures: 0 });
  });

  it("keeps retrying with backoff when the server refuses the token, and leaves nothing open", async () => {
    const egress = setUp(media.whipUrl, "not-the-token");
    const seen = failures(egress, 3);
    egress.start();
    const errors = await seen;
    expect(errors.map((e) => e.code)).toEqual(["refused", "refused", "refused"]);
    expect(errors[0]?.message).toMatch(/answered the offer with 403/);
    expect(egress.state).not.toBe("pushing");
    expect(manager.sessionCount).toBe(0);
  });

  it("says unreachable for a server that is not there, and close() stops the retries at once", async () => {
    const egress = setUp(`http://127.0.0.1:${await freePort()}/whip/endpoint/x`, "");
    const seen = failures(egress, 2);
    egress.start();
    const errors = await seen;
    expect(errors.map((e) => e.code)).toEqual(["unreachable", "unreachable"]);
    expect(errors[0]?.message).not.toContain("/whip/endpoint/x");
    const attempts = egress.stats.attempts;
    await egress.close();
    await new Promise((r) => setTimeout(r, 600));
    expect(egress.stats.attempts).toBe(attempts);
    expect(egress.state).toBe("closed");
  });
});
