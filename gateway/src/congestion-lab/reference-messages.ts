/**
 * What the libwebrtc reference call's two processes (reference-sender.ts in
 * the board's namespace, reference-receiver.ts in a viewer's) and the
 * runner that relays between them (reference-call.ts) say to each other:
 * one JSON object a line on stdin and stdout. Signaling goes straight
 * through the runner: this is a yardstick, not the product, so it has no
 * broker, no login and no call setup worth measuring.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { GatewaySample } from "./metrics-sampler.js";
import type { ReferenceViewerReport } from "./reference-report.js";

/** An ICE candidate as RTCPeerConnection gives it (RTCIceCandidateInit). */
export interface CandidateLine {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export type ReferenceMessage =
  /** An SDP offer (sender) or answer (receiver). */
  | { type: "description"; kind: "offer" | "answer"; sdp: string }
  | { type: "candidate"; candidate: CandidateLine }
  /** The peer connection reached "connected". */
  | { type: "connected" }
  /** Sender, once a second: what it sent and what its estimator allows. */
  | {
      type: "sample";
      /** NaN (no estimate yet, no encoder target) travels as null. */
      sample: { [K in keyof GatewaySample]: number | null };
      /** The encoded picture now ("640x480"). */
      size: string;
    }
  /** Runner -> receiver: stop watching and report; runner -> sender: stop. */
  | { type: "stop" }
  /** Receiver, after `stop`: what the viewer saw. */
  | { type: "report"; report: ReferenceViewerReport }
  | { type: "error"; message: string };

/** Writes one message as a line. */
export function writeMessage(out: NodeJS.WritableStream, message: ReferenceMessage): void {
  out.write(`${JSON.stringify(message)}\n`);
}

/**
 * Calls `onMessage` for every line of `input` that is a message; a line that
 * is not (a library printing to stdout) goes to `onOther`.
 */
export function readMessages(
  input: Readable,
  onMessage: (message: ReferenceMessage) => void,
  onOther: (line: string) => void = () => undefined,
): void {
  createInterface({ input }).on("line", (line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      onOther(line);
      return;
    }
    if (typeof parsed === "object" && parsed !== null && "type" in parsed) {
      onMessage(parsed as ReferenceMessage);
    } else {
      onOther(line);
    }
  });
}
