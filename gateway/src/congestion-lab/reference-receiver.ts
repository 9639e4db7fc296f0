/**
 * The libwebrtc reference call's viewer: a process of its own in a viewer's
 * namespace (reference-call.ts starts it), an @roamhq/wrtc 0.10
 * RTCPeerConnection that answers the reference sender's offer and watches
 * its video through an RTCVideoSink (nonstandard API), measured as the probe
 * measures camgw (reference-report.ts). Messages on stdin and stdout
 * (reference-messages.ts); its report after `stop`.
 *
 *   node reference-receiver.js '{"width":640,"height":480}'
 */
import wrtc from "@roamhq/wrtc";
import { readMessages, writeMessage, type ReferenceMessage } from "./reference-messages.js";
import { ReferenceViewerMeasure, type SinkFrame } from "./reference-report.js";

const source = JSON.parse(process.argv[2] ?? "{}") as { width: number; height: number };
const measure = new ReferenceViewerMeasure(source);
const pc = new wrtc.RTCPeerConnection();
const sinks: { stop(): void }[] = [];
const say = (m: ReferenceMessage): void => writeMessage(process.stdout, m);

pc.onicecandidate = (e) => {
  const c = e.candidate;
  if (c)
    say({
      type: "candidate",
      candidate: c.toJSON() as Required<RTCIceCandidateInit> & { candidate: string },
    });
};
pc.onconnectionstatechange = () => {
  if (pc.connectionState === "connected") say({ type: "connected" });
};
pc.ontrack = (e) => {
  const sink = new wrtc.nonstandard.RTCVideoSink(e.track);
  // @roamhq/wrtc 0.10 types onframe as a bare EventHandler: the event carries `frame`.
  sink.onframe = (event: { frame: SinkFrame }) => measure.shown(event.frame);
  sinks.push(sink);
};

/** Video payload bytes received so far (inbound-rtp), for the timeline's kbit/s. */
let bytesBefore = 0;
const poll = setInterval(() => {
  void pc.getStats().then((report: RTCStatsReport) => {
    for (const s of report.values() as IterableIterator<Record<string, unknown>>) {
      if (s.type !== "inbound-rtp" || s.kind !== "video") continue;
      const bytes = Number(s.bytesReceived ?? 0);
      measure.received(bytes - bytesBefore);
      bytesBefore = bytes;
    }
  });
}, 1000);

function stop(): void {
  clearInterval(poll);
  say({ type: "report", report: measure.report() });
  for (const s of sinks) s.stop();
  pc.close();
  process.exit(0);
}

// Handled in order: a candidate must not overtake the offer it belongs to.
let queue: Promise<void> = Promise.resolve();
readMessages(process.stdin, (m) => {
  queue = queue
    .then(async () => {
      if (m.type === "description" && m.kind === "offer") {
        measure.offered();
        await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        say({ type: "description", kind: "answer", sdp: answer.sdp ?? "" });
      } else if (m.type === "candidate") {
        await pc.addIceCandidate(m.candidate);
      } else if (m.type === "stop") {
        stop();
      }
    })
    .catch((err: unknown) =>
      say({ type: "error", message: `receiver, on ${m.type}: ${String(err)}` }),
    );
});
process.stdin.on("end", () => stop());
