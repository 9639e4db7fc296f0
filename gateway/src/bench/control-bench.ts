import { ControlHub } from "../control/control-hub.js";
import { SourceControl } from "../control/source-control.js";
import { percentile, round } from "../probe/stats.js";
import { encodeTestClip } from "../testing/test-clip.js";
import { serveControl } from "../webrtc/data-channel.js";
import { AvViewer } from "../webrtc/testing/av-viewer.js";
import { ClipSource } from "../webrtc/testing/clip-source.js";
import { LibwebrtcViewer } from "../webrtc/testing/libwebrtc-viewer.js";
import { SessionManager } from "../webrtc/session-manager.js";

/**
 * `make bench`, control part: the control DataChannel's round-trip time
 * (docs/control.md `ping` -> `pong`), one request at a time, on loopback
 * while the session streams video, from two independent peers: a werift
 * viewer (werift's SCTP at both ends) and libwebrtc's own SCTP
 * (@roamhq/wrtc, what Chromium runs; the browser's own figure is in the
 * audio bench). Figures only; nothing here passes or fails.
 */

const PINGS = 200;

/** A peer's open control channel, as far as pinging goes. */
interface Pinger {
  send(text: string): void;
  /** Calls `onReply` once, for the next message that arrives. */
  nextReply(onReply: () => void): void;
}

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
  const werift = new AvViewer(manager, "bench-werift");
  const libwebrtc = new LibwebrtcViewer(manager, "bench-libwebrtc");
  try {
    report("werift both ends", await measure(await weriftPinger(werift)));
    report("libwebrtc (@roamhq/wrtc) to werift", await measure(await libwebrtcPinger(libwebrtc)));
  } finally {
    libwebrtc.close();
    await werift.close();
    await manager.close();
    hub.close();
    await source.close();
  }
}

function report(peers: string, rtts: number[]): void {
  console.log(
    `control channel ping RTT (${rtts.length} pings, loopback, ${peers}): ` +
      `p50 ${round(percentile(rtts, 50), 2)} ms, p95 ${round(percentile(rtts, 95), 2)} ms`,
  );
}

async function weriftPinger(viewer: AvViewer): Promise<Pinger> {
  const channel = viewer.openControl();
  await viewer.negotiate();
  await until(() => channel.readyState === "open", "werift's control channel did not open");
  return {
    send: (text) => channel.send(text),
    nextReply: (onReply) => {
      const sub = channel.onMessage.subscribe(() => {
        sub.unSubscribe();
        onReply();
      });
    },
  };
}

async function libwebrtcPinger(viewer: LibwebrtcViewer): Promise<Pinger> {
  const channel = viewer.openControl();
  await viewer.negotiate();
  await until(() => channel.readyState === "open", "libwebrtc's control channel did not open");
  return {
    send: (text) => channel.send(text),
    nextReply: (onReply) => channel.addEventListener("message", () => onReply(), { once: true }),
  };
}

async function measure(pinger: Pinger): Promise<number[]> {
  const rtts: number[] = [];
  for (let i = 0; i < PINGS; i++) {
    const sent = performance.now();
    await new Promise<void>((resolve) => {
      pinger.nextReply(resolve);
      pinger.send(JSON.stringify({ id: i, type: "ping" }));
    });
    rtts.push(performance.now() - sent);
    // Paced under the channel's rate limit (10 a second after a burst of 20).
    await new Promise((r) => setTimeout(r, 110));
  }
  return rtts;
}

function until(condition: () => boolean, failure: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(check);
      reject(new Error(failure));
    }, 15_000);
    const check = setInterval(() => {
      if (!condition()) return;
      clearInterval(check);
      clearTimeout(timer);
      resolve();
    }, 20);
  });
}
