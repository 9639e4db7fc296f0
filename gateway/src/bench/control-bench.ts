import { ControlHub } from "../control/control-hub.js";
import { SourceControl } from "../control/source-control.js";
import { percentile, round } from "../probe/stats.js";
import { encodeTestClip } from "../testing/test-clip.js";
import { serveControl } from "../webrtc/data-channel.js";
import { AvViewer } from "../webrtc/testing/av-viewer.js";
import { ClipSource } from "../webrtc/testing/clip-source.js";
import { SessionManager } from "../webrtc/session-manager.js";

/**
 * `make bench`, control part: the control DataChannel's round-trip time
 * (docs/control.md `ping` -> `pong`), one request at a time, from a werift
 * viewer to the session manager on loopback, while the session streams
 * video. Figures only; nothing here passes or fails.
 */

const PINGS = 200;

export async function controlBench(): Promise<void> {
  const clip = await encodeTestClip({ frames: 30, gop: 30 });
  const source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  const hub = new ControlHub({
    stream: new SourceControl(source, 2000),
    policy: { bitrate: null, sizes: [], appViewers: [] },
    app: undefined,
  });
  const manager = new SessionManager({
    streams: { main: source },
    ice: { hostAddresses: ["127.0.0.1"] },
    control: (channel, viewer, view) => serveControl(channel, viewer, view, hub),
  });
  const viewer = new AvViewer(manager, "bench");
  try {
    const channel = viewer.openControl();
    await viewer.negotiate();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("control channel did not open")), 15_000);
      const check = setInterval(() => {
        if (channel.readyState !== "open") return;
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }, 20);
    });
    const rtts: number[] = [];
    for (let i = 0; i < PINGS; i++) {
      const sent = performance.now();
      await new Promise<void>((resolve) => {
        const sub = channel.onMessage.subscribe(() => {
          sub.unSubscribe();
          resolve();
        });
        // Paced under the channel's rate limit (10 a second after a burst of 20).
        channel.send(JSON.stringify({ id: i, type: "ping" }));
      });
      rtts.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, 110));
    }
    console.log(
      `control channel ping RTT (${PINGS} pings, loopback, werift both ends): ` +
        `p50 ${round(percentile(rtts, 50), 2)} ms, p95 ${round(percentile(rtts, 95), 2)} ms`,
    );
  } finally {
    await viewer.close();
    await manager.close();
    hub.close();
    await source.close();
  }
}
