/**
 * The probe's viewer of one camera: a signaling call and the werift peer
 * that plays it, and what a browser app does when the picture stops
 * (docs/signaling.md, "Recovery"): a call that has played and stalls (no
 * frame for 4 s, as the web viewer), whose ICE fails, or whose device asks
 * (`ice-restart`) restarts ICE on the same peer and session
 * (HeadlessViewer.restartIce, as a browser's restartIce(); the gateway
 * answers it in place, webrtc/renegotiation.ts); a restart that brings
 * nothing back, a failed renegotiation or the device's `bye` gets a new
 * session, with backoff (not a bye for shutdown, source-lost or kicked: the
 * device meant it); while the broker is away it waits for it. No
 * frames while the device says its camera is away (`source`) is no stall.
 * A call that never played is not retried: its end is the probe's verdict.
 */
import type { SourceUpdate } from "../signaling/message-types.js";
import { CallError, type Call, type CallEndCause } from "../signaling/viewer-call.js";
import type { ConnectionState, ViewerClient } from "../signaling/viewer-client.js";
import { randomId } from "../signaling/topics.js";
import { TypedEmitter } from "../signaling/typed-emitter.js";
import type { IceServer } from "../webrtc/ice-config.js";
import {
  HeadlessViewer,
  type HeadlessViewerStats,
  type ReceivedFrame,
  type SelectedPair,
  type SenderReport,
} from "../webrtc/receive/headless-viewer.js";

export interface RecoveringViewerOptions {
  client: ViewerClient;
  deviceId: string;
  stream: string;
  /** Local addresses for host candidates (default: every interface). */
  hostAddresses?: readonly string[];
  /** Servers to use instead of the device's (then nothing waits for the device's). */
  iceServers?: readonly IceServer[];
  /** Recover a call that has played (default true). */
  recover?: boolean;
  /** No frame for this long while playing is a stall (default 4000 ms, as the web viewer). */
  stallMs?: number;
  /** A restart with no frame after this long gives way to a new session (default 10 000 ms). */
  restartTimeoutMs?: number;
  /** How often a peer repeats its PLI while it waits for a key frame (HeadlessViewer's default when absent). */
  keyFrameRetryMs?: number;
  /** Signal host addresses as mDNS names, as browsers do (HeadlessViewer's mdnsCandidates). */
  mdnsCandidates?: boolean;
  /** Offer RTX (RFC 4588) for repairs (default true); false: the sender resends the original packets. */
  rtx?: boolean;
}

/** What happened, as `camgw probe --events` prints it (one JSON line each, with `at`). */
export type ProbeEvent =
  | { event: "offer"; session: string; iceServers: "given" | "cached" | "from-device" | "none" }
  | { event: "answer"; session: string }
  | { event: "playing"; session: string; pair: SelectedPair | null }
  | { event: "stalled"; sinceMs: number }
  | { event: "ice-restart"; reason: string }
  | { event: "new-session"; reason: string }
  | { event: "recovered"; method: RecoveryMethod; gapMs: number; pair: SelectedPair | null }
  | { event: "ended"; reason: string };

export type RecoveryMethod = "ice-restart" | "new-session";

/** One outage the viewer came back from. */
export interface Recovery {
  /** What started it: "stalled", "ice-failed", "device: address-changed", "bye timeout", ... */
  trigger: string;
  /** How video came back: a restart on the same session, or a new session. */
  method: RecoveryMethod;
  /** Last frame before the outage to the first one after, ms. */
  gapMs: number;
  /** Restarts and new sessions it took. */
  attempts: number;
}

export interface RecoveringViewerEvents extends Record<string, unknown[]> {
  frame: [frame: ReceivedFrame];
  /** An RTCP sender report of the peer playing now. */
  senderReport: [report: SenderReport];
  /** The device's camera for the call changed state (`source`). */
  source: [update: SourceUpdate];
  event: [event: ProbeEvent & { at: number }];
  /** The viewer gave up (a call that never played ended, or recovery is off). */
  ended: [reason: string];
}

interface Outage {
  trigger: string;
  lastFrameAt: number;
  attempts: number;
  method: RecoveryMethod;
  /** When the latest attempt started (performance.now()). */
  attemptAt: number;
  /** The counters then, to tell what an attempt that brings nothing back waits for. */
  statsAtAttempt: Pick<HeadlessViewerStats, "packetsReceived" | "keyFrames" | "plisSent">;
}

const NEW_SESSION_BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

/** Bye reasons no recovery can undo (docs/signaling.md, "Recovery"). */
const FINAL_BYE: readonly string[] = ["shutdown", "source-lost", "kicked"];

const SUMMED_STATS = [
  "packetsReceived",
  "packetsLost",
  "bytesReceived",
  "keyFrames",
  "plisSent",
  "nacksSent",
] as const;
type SummedStat = (typeof SUMMED_STATS)[number];

export class RecoveringViewer extends TypedEmitter<RecoveringViewerEvents> {
  readonly recoveries: Recovery[] = [];
  readonly #o: Required<
    Omit<
      RecoveringViewerOptions,
      "hostAddresses" | "iceServers" | "keyFrameRetryMs" | "mdnsCandidates" | "rtx"
    >
  > &
    Pick<
      RecoveringViewerOptions,
      "hostAddresses" | "iceServers" | "keyFrameRetryMs" | "mdnsCandidates" | "rtx"
    >;
  #peer: HeadlessViewer | undefined;
  #call: Call | undefined;
  #everPlayed = false;
  #lastFrameAt = 0;
  /** The device says the camera gives frames (no `source` message, or the last one said live). */
  #sourceLive = true;
  #outage: Outage | undefined;
  #lastPair: SelectedPair | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #waitingForBroker: string | undefined;
  readonly #watchdog: ReturnType<typeof setInterval>;
  readonly #pastStats: Partial<Record<keyof HeadlessViewerStats, number>> = {};
  readonly #onBroker = (state: ConnectionState): void => {
    if (state !== "connected" || this.#waitingForBroker === undefined) return;
    const why = this.#waitingForBroker;
    this.#waitingForBroker = undefined;
    this.#attempt(why, "ice-restart");
  };
  #ended = false;
  #closed = false;

  constructor(options: RecoveringViewerOptions) {
    super();
    this.#o = { recover: true, stallMs: 4000, restartTimeoutMs: 10_000, ...options };
    this.#watchdog = setInterval(() => this.#check(), 250);
    options.client.on("state", this.#onBroker);
  }

  /** Starts the first call. */
  start(): void {
    void this.#newSession();
  }

  /** The candidate pair of the peer playing now (or the last one that did). */
  get selectedPair(): SelectedPair | null {
    return this.#peer?.selectedPair ?? this.#lastPair;
  }

  /** Counters summed over every peer this viewer had. */
  get stats(): Pick<HeadlessViewerStats, SummedStat> {
    const now = this.#peer?.stats;
    const sum = (k: SummedStat): number => (this.#pastStats[k] ?? 0) + (now?.[k] ?? 0);
    return {
      packetsReceived: sum("packetsReceived"),
      packetsLost: sum("packetsLost"),
      bytesReceived: sum("bytesReceived"),
      keyFrames: sum("keyFrames"),
      plisSent: sum("plisSent"),
      nacksSent: sum("nacksSent"),
    };
  }

  /** Asks the peer playing now for a key frame (a PLI), e.g. after a decode error. */
  requestKeyFrame(): void {
    this.#peer?.requestKeyFrame();
  }

  /** Hangs up and closes the peer; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    clearTimeout(this.#retryTimer);
    this.#o.client.off("state", this.#onBroker);
    this.#call?.hangup();
    this.#call = undefined;
    const peer = this.#peer;
    this.#peer = undefined;
    if (peer) await this.#retire(peer);
  }

  #emitEvent(event: ProbeEvent): void {
    this.emit("event", { at: Date.now(), ...event });
  }

  #end(reason: string): void {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    this.#emitEvent({ event: "ended", reason });
    this.emit("ended", reason);
  }

  /** Keeps what a peer saw, then closes it. */
  async #retire(peer: HeadlessViewer): Promise<void> {
    this.#lastPair = peer.selectedPair ?? this.#lastPair;
    const stats = peer.stats;
    for (const k of SUMMED_STATS) this.#pastStats[k] = (this.#pastStats[k] ?? 0) + stats[k];
    await peer.close();
  }

  #makePeer(): HeadlessViewer {
    const peer = new HeadlessViewer({
      ice: this.#o.hostAddresses?.length ? { hostAddresses: [...this.#o.hostAddresses] } : {},
      ...(this.#o.keyFrameRetryMs === undefined
        ? {}
        : { keyFrameRetryMs: this.#o.keyFrameRetryMs }),
      ...(this.#o.mdnsCandidates ? { mdnsCandidates: true } : {}),
      ...(this.#o.rtx === undefined ? {} : { rtx: this.#o.rtx }),
    });
    const old = this.#peer;
    this.#peer = peer;
    if (old) void this.#retire(old);
    peer.on("frame", (frame) => {
      if (peer === this.#peer) this.#onFrame(frame);
    });
    peer.on("senderReport", (report) => {
      if (peer === this.#peer) this.emit("senderReport", report);
    });
    peer.on("connectionState", (state) => {
      if (peer !== this.#peer || state !== "failed") return;
      // Before it ever played the device's bye is the verdict; after, a browser restarts.
      if (this.#everPlayed && this.#o.recover) this.#trigger("ice-failed", "ice-restart");
    });
    return peer;
  }

  /** The servers to gather with now, or undefined: wait for the device's. */
  #serversNow(): { servers: IceServer[]; source: "given" | "cached" } | undefined {
    if (this.#o.iceServers) return { servers: [...this.#o.iceServers], source: "given" };
    const cached = this.#o.client.cachedIceServers(this.#o.deviceId);
    return cached ? { servers: cached, source: "cached" } : undefined;
  }

  async #newSession(): Promise<void> {
    if (this.#closed) return;
    this.#call?.hangup();
    this.#call = undefined;
    const session = randomId();
    // A new session's device says again if its camera is away.
    this.#sourceLive = true;
    const peer = this.#makePeer();
    try {
      const sdp = await peer.makeOffer();
      if (peer !== this.#peer) return;
      const call = this.#o.client.call(this.#o.deviceId, { sdp, stream: this.#o.stream, session });
      this.#call = call;
      peer.on("candidate", (c) => {
        if (peer === this.#peer) call.sendCandidate(c);
      });
      call.on("candidate", (c) => this.#peer?.addRemoteCandidate(c));
      call.on("ended", (cause) => this.#onCallEnded(call, cause));
      call.on("ice-restart", (reason) => this.#onDeviceRestart(call, reason));
      call.on("source", (update) => this.#onSource(call, update));
      const now = this.#serversNow();
      this.#emitEvent({
        event: "offer",
        session,
        iceServers: now?.source ?? "from-device",
      });
      // Without servers in hand the offer goes out first and gathering
      // waits for the device's reply, which comes before its answer.
      void peer.gather(now?.servers ?? (await call.iceServers) ?? []).catch(() => undefined);
      const answer = await call.answer;
      if (peer !== this.#peer) return;
      this.#emitEvent({ event: "answer", session });
      await peer.acceptAnswer(answer);
    } catch (err) {
      // close() clears #peer too: nothing to report then.
      if (peer !== this.#peer) return;
      this.#attemptFailed(err);
    }
  }

  /**
   * An ICE restart on the same peer and session: new credentials and
   * candidates, the same DTLS association (RFC 8839 section 4.4.1.1.1); the
   * gateway answers it on the session's peer connection, which gathers anew
   * on the addresses it has now. The peer keeps the ICE servers it gathered
   * with (REST credentials last a day).
   */
  async #restartIce(): Promise<void> {
    const call = this.#call;
    const peer = this.#peer;
    if (!call || call.ended || !peer) {
      await this.#newSession();
      return;
    }
    try {
      const sdp = await peer.restartIce();
      if (peer !== this.#peer || call !== this.#call) return;
      const answer = await call.renegotiate(sdp, this.#o.stream);
      if (peer !== this.#peer) return;
      await peer.acceptAnswer(answer);
    } catch (err) {
      if (peer !== this.#peer) return;
      // The restart failed: a new session is next.
      if (this.#everPlayed && this.#o.recover) this.#trigger(errorText(err), "new-session");
      else this.#attemptFailed(err);
    }
  }

  #attemptFailed(err: unknown): void {
    // Before the first picture a failure usually means a wrong id, login or
    // network, reported at once; a broker connection lost on the way (code
    // "closed": the offer or its subscription never went out) is a broker
    // restart, which a browser rides out too: try again once it is back.
    const lostBroker =
      err instanceof CallError && err.code === "closed" && this.#o.client.state !== "closed";
    if ((this.#everPlayed || lostBroker) && this.#o.recover) {
      this.#trigger(errorText(err), "new-session");
      return;
    }
    const code = err instanceof CallError ? `${err.code}: ` : "";
    this.#end(`${code}${errorText(err)}`);
  }

  #onCallEnded(call: Call, cause: CallEndCause): void {
    if (call !== this.#call || this.#closed) return;
    // Our own hang-ups; failures before an answer come through the answer promise.
    if (["hangup", "closed", "error", "timeout"].includes(cause)) return;
    // The device ended it on purpose, and a new session would meet the same
    // end: it is going down, its camera is gone for good (source-timeout),
    // or it removed this viewer.
    if (FINAL_BYE.includes(cause)) {
      this.#end(cause);
      return;
    }
    if (this.#everPlayed && this.#o.recover) this.#trigger(`bye ${cause}`, "new-session");
    else this.#end(cause);
  }

  #onDeviceRestart(call: Call, reason: string): void {
    if (call !== this.#call || !this.#everPlayed || !this.#o.recover) return;
    // A restart is already under way: this asks for nothing new.
    if (this.#outage) return;
    this.#trigger(`device: ${reason}`, "ice-restart");
  }

  /**
   * A camera that is away sends nothing, and that is no fault of the path:
   * the session stays (the device keeps it) and no stall is counted until
   * the device says it is live again.
   */
  #onSource(call: Call, update: SourceUpdate): void {
    if (call !== this.#call) return;
    const live = update.state === "live";
    if (live && !this.#sourceLive) this.#lastFrameAt = performance.now();
    this.#sourceLive = live;
    this.emit("source", update);
  }

  #onFrame(frame: ReceivedFrame): void {
    const now = performance.now();
    const outage = this.#outage;
    if (outage) {
      const recovery: Recovery = {
        trigger: outage.trigger,
        method: outage.method,
        gapMs: Math.round(now - outage.lastFrameAt),
        attempts: outage.attempts,
      };
      this.#outage = undefined;
      this.recoveries.push(recovery);
      this.#emitEvent({
        event: "recovered",
        method: recovery.method,
        gapMs: recovery.gapMs,
        pair: this.selectedPair,
      });
    } else if (!this.#everPlayed) {
      this.#everPlayed = true;
      this.#emitEvent({
        event: "playing",
        session: this.#call?.session ?? "",
        pair: this.selectedPair,
      });
    }
    this.#lastFrameAt = now;
    this.emit("frame", frame);
  }

  /** Starts (or escalates) an outage and makes the next attempt. */
  #trigger(trigger: string, method: RecoveryMethod): void {
    if (this.#closed || this.#ended) return;
    if (!this.#outage) {
      this.#outage = {
        trigger,
        lastFrameAt: this.#lastFrameAt,
        attempts: 0,
        method,
        attemptAt: performance.now(),
        statsAtAttempt: this.stats,
      };
    }
    this.#attempt(trigger, method);
  }

  #attempt(why: string, method: RecoveryMethod): void {
    const outage = this.#outage;
    if (!outage || this.#closed) return;
    clearTimeout(this.#retryTimer);
    if (this.#o.client.state !== "connected") {
      // No signaling to restart over: try once the broker is back.
      this.#waitingForBroker = why;
      return;
    }
    outage.attempts++;
    outage.method = method;
    outage.attemptAt = performance.now();
    outage.statsAtAttempt = this.stats;
    if (method === "ice-restart") {
      this.#emitEvent({ event: "ice-restart", reason: why });
      void this.#restartIce();
      return;
    }
    const newSessions = Math.max(0, outage.attempts - 1);
    const delay = NEW_SESSION_BACKOFF_MS[Math.min(newSessions, NEW_SESSION_BACKOFF_MS.length - 1)];
    this.#emitEvent({ event: "new-session", reason: why });
    this.#retryTimer = setTimeout(() => void this.#newSession(), delay);
  }

  /** Stalls, and attempts that bring nothing back. */
  #check(): void {
    if (!this.#everPlayed || !this.#o.recover || this.#ended || this.#closed) return;
    const now = performance.now();
    const outage = this.#outage;
    if (!outage) {
      if (this.#sourceLive && now - this.#lastFrameAt > this.#o.stallMs) {
        this.#emitEvent({ event: "stalled", sinceMs: Math.round(now - this.#lastFrameAt) });
        this.#trigger("stalled", "ice-restart");
      }
      return;
    }
    if (this.#waitingForBroker === undefined && now - outage.attemptAt > this.#o.restartTimeoutMs) {
      this.#attempt(
        `no video ${this.#o.restartTimeoutMs / 1000} s after the ${outage.method} (${this.#waitingFor(outage)})`,
        "new-session",
      );
    }
  }

  /**
   * What an attempt that brought no video back was left waiting for, as
   * far as a viewer can tell: ICE that did not connect, a sender that sends
   * nothing on the pair, or packets but no key frame (and the PLIs asking
   * for one). The probe's events and the soak's timeline print it.
   */
  #waitingFor(outage: Outage): string {
    const peer = this.#peer;
    if (!peer) return "no peer";
    const now = this.stats;
    const since = outage.statsAtAttempt;
    const pair = peer.selectedPair;
    const path = pair ? `pair ${pair.local.type}-${pair.remote.type}` : "no pair";
    return (
      `ICE ${peer.connectionState}, ${path}; since then ` +
      `${now.packetsReceived - since.packetsReceived} packets, ` +
      `${now.keyFrames - since.keyFrames} key frames, ${now.plisSent - since.plisSent} PLIs sent`
    );
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
