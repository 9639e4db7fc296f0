/**
 * signaling-v1's checks ("Messages", steps 1-4) written a second time, as
 * plainly as the spec says them, for the fuzz targets to hold
 * parseDeviceInbound to: what reply (or none) a device owes each payload.
 * Written from the spec, not from parse.ts, so one cannot copy a mistake of
 * the other.
 */

/** What the spec says a device does with one payload before any session state. */
export type ExpectedOutcome =
  | { kind: "bad-request"; session: string | undefined }
  | { kind: "ignore" }
  | { kind: "offer"; session: string; sdp: string; stream: string }
  | { kind: "candidate"; session: string; candidate: unknown }
  | { kind: "bye"; session: string }
  /** A request for the device's ICE servers ("ICE servers"): no fields, a session is ignored. */
  | { kind: "ice-servers" };

const MAX_BYTES = 65_536;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * One decoder for every payload: decode() without { stream: true } keeps no
 * state from one call to the next, and constructing a fatal TextDecoder
 * costs about four times a small payload's decode (Node 20).
 */
const utf8 = new TextDecoder("utf-8", { fatal: true });

const isId = (value: unknown): value is string => typeof value === "string" && ID.test(value);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function candidateOk(c: unknown): boolean {
  if (c === null) return true;
  if (!isObject(c) || typeof c.candidate !== "string") return false;
  const mid = c.sdpMid;
  const index = c.sdpMLineIndex;
  const midOk = typeof mid === "string";
  const indexOk = typeof index === "number" && Number.isInteger(index) && index >= 0;
  // Present but of the wrong type is an error even when the other one is fine.
  if (mid !== undefined && mid !== null && !midOk) return false;
  if (index !== undefined && index !== null && !indexOk) return false;
  return midOk || indexOk;
}

/** The outcome of steps 1-4 for a payload as bytes. */
export function expectedOutcome(payload: Uint8Array): ExpectedOutcome {
  // Step 1: over 64 KiB, not UTF-8, not JSON, or not an object.
  if (payload.byteLength > MAX_BYTES) return { kind: "bad-request", session: undefined };
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { kind: "bad-request", session: undefined };
  }
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: "bad-request", session: undefined };
  }
  if (!isObject(msg)) return { kind: "bad-request", session: undefined };
  // Step 2: carrying the message's session when it is a valid id.
  const session = isId(msg.session) ? msg.session : undefined;
  if (msg.v !== 1 || typeof msg.type !== "string") return { kind: "bad-request", session };
  // Step 3: types a device does not know are ignored.
  if (
    msg.type !== "offer" &&
    msg.type !== "candidate" &&
    msg.type !== "bye" &&
    msg.type !== "ice-servers"
  ) {
    return { kind: "ignore" };
  }
  // Step 4 for ice-servers: it has no fields to check.
  if (msg.type === "ice-servers") return { kind: "ice-servers" };
  // Step 4: the fields of the known type.
  if (session === undefined) return { kind: "bad-request", session };
  switch (msg.type) {
    case "offer":
      if (typeof msg.sdp !== "string") return { kind: "bad-request", session };
      if (msg.stream !== undefined && typeof msg.stream !== "string") {
        return { kind: "bad-request", session };
      }
      return { kind: "offer", session, sdp: msg.sdp, stream: msg.stream ?? "main" };
    case "candidate":
      if (!("candidate" in msg) || !candidateOk(msg.candidate)) {
        return { kind: "bad-request", session };
      }
      return { kind: "candidate", session, candidate: msg.candidate };
    case "bye":
      return { kind: "bye", session };
  }
}
