/**
 * The device side of signaling v1 (docs/signaling.md), apart from any
 * transport: each viewer's messages in order behind a bounded queue, checked
 * in the spec's order, rate-limited, handed to the SessionHost, and answered
 * through the ViewerTransport they came with. The host's own trickled
 * candidates and byes go back the same way. The dispatcher knows nothing of
 * MQTT; the MQTT link (mqtt-link.ts) and later WHEP deliver to it.
 */
import { EventEmitter } from "node:events";
import { SignalingError } from "../errors.js";
import {
  answerMessage,
  byeMessage,
  candidateMessage,
  errorMessage,
  iceRestartMessage,
  iceServersMessage,
  parseDeviceInbound,
  snapshotMessage,
  sourceMessage,
  type ByeReason,
  type DeviceInbound,
  type ErrorCode,
  type IceCandidate,
  type OfferMessage,
  type SnapshotRequestMessage,
  type SourceUpdate,
  type ViewerInbound,
} from "./messages.js";
import { KeyedRateLimiter, type RateLimit } from "./rate-limit.js";
import type { SessionHost } from "./session-host.js";
import type { SnapshotHost } from "./snapshot-host.js";
import { SignalingCounters, type SignalingCounterSnapshot } from "./signaling-counters.js";
import type { InboundSink, ViewerIdentity, ViewerTransport } from "./viewer-transport.js";

export interface SignalingDispatcherOptions {
  /** Where sessions live (the WebRTC session manager). */
  host: SessionHost;
  /** Offers per viewer; default burst 8, 1 per second. Over it: `busy`. */
  offerRate?: RateLimit;
  /** Error replies per viewer; default burst 20, 10 per second. Over it: dropped and counted. */
  errorReplyRate?: RateLimit;
  /**
   * Who may watch: the app admits the accounts it knows. A viewer it does
   * not admit gets `unauthorized` for offers and candidates (its byes are
   * ignored), whatever the transport let through: an external broker without
   * an ACL cannot get anyone a session. Default: everyone (tests).
   */
  admit?: (identity: ViewerIdentity) => boolean;
  /** ICE-server requests per viewer; default burst 8, 1 per second. Over it: dropped and counted. */
  iceServersRate?: RateLimit;
  /** Who makes JPEGs for `snapshot` requests; absent: they are answered `unsupported`. */
  snapshots?: SnapshotHost;
  /** Snapshot requests per viewer; default burst 3, 1 every 2 seconds. Over it: `busy`. */
  snapshotRate?: RateLimit;
}

export interface SignalingDispatcherEvents {
  /**
   * What a person should read in the log: the session host failed where it
   * should not (a SignalingError `internal`; the viewer got a plain
   * `internal`), or a transport could not send (its own error, e.g. a
   * BrokerError `publish`).
   */
  error: [error: Error];
}

/**
 * Messages one viewer may have waiting behind a slow offer; past this a
 * flood is dropped and counted instead of queued (offers are rate-limited
 * before they reach the host, so a queue this long is abuse).
 */
export const MAX_QUEUED_PER_VIEWER = 64;

/** One viewer the dispatcher is working for: its queue, and the way back to it. */
interface Viewer {
  /** The transport its latest message came through; replies and the host's events go there. */
  transport: ViewerTransport;
  tail: Promise<void>;
  pending: number;
  /** Sessions the host may still speak of; the entry lives while any remain or work is queued. */
  sessions: Set<string>;
}

export class SignalingDispatcher
  extends EventEmitter<SignalingDispatcherEvents>
  implements InboundSink
{
  readonly counters = new SignalingCounters();
  readonly #host: SessionHost;
  readonly #admit: (identity: ViewerIdentity) => boolean;
  readonly #offers: KeyedRateLimiter;
  readonly #errorReplies: KeyedRateLimiter;
  readonly #iceServerReplies: KeyedRateLimiter;
  readonly #snapshots: SnapshotHost | undefined;
  readonly #snapshotRequests: KeyedRateLimiter;
  /** Viewers with a snapshot on its way: one each. */
  readonly #snapshotting = new Set<string>();
  readonly #viewers = new Map<string, Viewer>();
  #closed = false;
  /** While revoke() runs: the sends of the byes it causes. */
  #collecting: Promise<unknown>[] | undefined;
  readonly #onHostCandidate = (
    viewerId: string,
    session: string,
    candidate: IceCandidate | null,
  ): void => {
    const viewer = this.#viewers.get(viewerId);
    if (!viewer) {
      this.counters.dropped += 1;
      return;
    }
    this.counters.candidatesSent += 1;
    this.#send(viewer.transport, candidateMessage(session, candidate));
  };
  readonly #onHostEnded = (viewerId: string, session: string, reason: ByeReason): void => {
    const viewer = this.#viewers.get(viewerId);
    if (!viewer) {
      this.counters.dropped += 1;
      return;
    }
    this.counters.byesSent += 1;
    this.#send(viewer.transport, byeMessage(session, reason));
    viewer.sessions.delete(session);
    this.#forgetIfIdle(viewerId, viewer);
  };
  readonly #onHostRestart = (viewerId: string, session: string, reason: string): void => {
    const viewer = this.#viewers.get(viewerId);
    if (!viewer) {
      this.counters.dropped += 1;
      return;
    }
    this.counters.iceRestartsSent += 1;
    this.#send(viewer.transport, iceRestartMessage(session, reason));
  };

  readonly #onHostSource = (viewerId: string, session: string, update: SourceUpdate): void => {
    const viewer = this.#viewers.get(viewerId);
    if (!viewer) {
      this.counters.dropped += 1;
      return;
    }
    this.#send(viewer.transport, sourceMessage(session, update));
  };

  constructor(options: SignalingDispatcherOptions) {
    super();
    this.#host = options.host;
    this.#admit = options.admit ?? (() => true);
    this.#offers = new KeyedRateLimiter(options.offerRate ?? { burst: 8, perSecond: 1 });
    this.#errorReplies = new KeyedRateLimiter(
      options.errorReplyRate ?? { burst: 20, perSecond: 10 },
    );
    this.#iceServerReplies = new KeyedRateLimiter(
      options.iceServersRate ?? { burst: 8, perSecond: 1 },
    );
    this.#snapshots = options.snapshots;
    this.#snapshotRequests = new KeyedRateLimiter(
      options.snapshotRate ?? { burst: 3, perSecond: 0.5 },
    );
    this.#host.on("candidate", this.#onHostCandidate);
    this.#host.on("ended", this.#onHostEnded);
    this.#host.on("source", this.#onHostSource);
    this.#host.on("ice-restart", this.#onHostRestart);
  }

  /** A copy of the counters, for /metrics. */
  metrics(): SignalingCounterSnapshot {
    return this.counters.snapshot();
  }

  /**
   * One message from a viewer, as its transport received it. One viewer's
   * messages are handled strictly in order, an offer to its end: a transport
   * can hand over an offer and the candidates trickled after it in one tick
   * (MQTT.js does), and a candidate must not be judged (not-found) before its
   * offer's reply (answer, or busy) has gone out. Other viewers never wait.
   */
  receive(from: ViewerTransport, payload: Uint8Array | string): void {
    if (this.#closed) return;
    const viewerId = from.identity.viewerId;
    this.counters.received += 1;
    let viewer = this.#viewers.get(viewerId);
    if (viewer !== undefined && viewer.pending >= MAX_QUEUED_PER_VIEWER) {
      this.counters.overflowed += 1;
      return;
    }
    if (!viewer) {
      viewer = { transport: from, tail: Promise.resolve(), pending: 0, sessions: new Set() };
      this.#viewers.set(viewerId, viewer);
    }
    // The way back is the one the viewer used last (one viewer id, one transport).
    viewer.transport = from;
    viewer.pending += 1;
    const entry = viewer;
    entry.tail = entry.tail
      // Each message in a turn of the event loop of its own: a burst of
      // messages (many viewers' huge offers at once) must not run as one
      // long chain of microtasks while frames wait to be sent.
      .then(nextTurn)
      .then(() => this.#handle(entry, payload))
      .catch((err: unknown) => {
        // Handlers catch what they expect; this keeps the queue alive for the rest.
        this.counters.hostErrors += 1;
        this.#emitError(
          new SignalingError(
            "internal",
            `handling a message failed: ${errorText(err)}`,
            { viewerId, via: from.via },
            { cause: err },
          ),
        );
      })
      .finally(() => {
        entry.pending -= 1;
        this.#forgetIfIdle(viewerId, entry);
      });
  }

  /**
   * Ends every session of `viewerId` now (bye `kicked`), e.g. when its
   * account was removed; its later messages are refused by `admit`.
   * Resolves with how many sessions ended once their byes are handed to the
   * transport, so the app can cut the viewer's connections after them.
   */
  async revoke(viewerId: string): Promise<number> {
    if (this.#closed) return 0;
    const sends: Promise<unknown>[] = [];
    this.#collecting = sends;
    let ended: number;
    try {
      ended = this.#host.endViewer(viewerId, "kicked");
    } finally {
      this.#collecting = undefined;
    }
    // The byes on their way (at most a second: a broker that does not answer
    // must not hold the viewer's removal up).
    await Promise.race([
      Promise.allSettled(sends),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
    return ended;
  }

  /**
   * Stops answering and lets go of the host; safe to call twice. The app
   * closes the session host first, so its `ended` events (bye shutdown) are
   * sent before this.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.off("candidate", this.#onHostCandidate);
    this.#host.off("ended", this.#onHostEnded);
    this.#host.off("source", this.#onHostSource);
    this.#host.off("ice-restart", this.#onHostRestart);
  }

  #handle(viewer: Viewer, payload: Uint8Array | string): Promise<void> | undefined {
    const result = parseDeviceInbound(payload);
    switch (result.kind) {
      case "ignore":
        this.counters.ignored += 1;
        return;
      case "reply-error":
        this.counters.countInvalid(
          result.step === 1 ? "payload" : result.step === 2 ? "header" : "fields",
        );
        this.#replyError(viewer, result.code, result.message, result.session);
        return;
      case "message":
        // After the spec's checks 1-4 (a valid message), before 5 and 6: who
        // may watch is decided here, not by the transport.
        if (!this.#admit(viewer.transport.identity)) {
          this.counters.unauthorized += 1;
          if (result.msg.type !== "bye") {
            this.#replyError(
              viewer,
              "unauthorized",
              "this viewer may not watch this camera",
              "session" in result.msg ? result.msg.session : undefined,
            );
          }
          return;
        }
        return this.#dispatch(viewer, result.msg);
    }
  }

  #dispatch(viewer: Viewer, msg: DeviceInbound): Promise<void> | undefined {
    const viewerId = viewer.transport.identity.viewerId;
    switch (msg.type) {
      case "offer":
        if (!this.#offers.take(viewerId)) {
          this.counters.rateLimited += 1;
          this.#replyError(
            viewer,
            "busy",
            "too many offers from this viewer; retry in a second",
            msg.session,
          );
          return;
        }
        return this.#offer(viewer, msg);
      case "candidate":
        try {
          if (!this.#host.addCandidate(viewerId, msg.session, msg.candidate)) {
            this.#replyError(
              viewer,
              "not-found",
              `no session "${msg.session}" for this viewer`,
              msg.session,
            );
          }
        } catch (err) {
          this.#replyHostError(viewer, err, msg.session);
        }
        return;
      case "ice-servers":
        this.#replyIceServers(viewer);
        return;
      case "snapshot":
        this.#snapshot(viewer, msg);
        return;
      case "bye":
        // Spec step 5: a bye for a session this viewer does not have is ignored.
        viewer.sessions.delete(msg.session);
        try {
          this.#host.bye(viewerId, msg.session);
        } catch (err) {
          this.counters.hostErrors += 1;
          this.#emitError(
            new SignalingError(
              "internal",
              `session host failed on bye: ${errorText(err)}`,
              { viewerId, session: msg.session, via: viewer.transport.via },
              { cause: err },
            ),
          );
        }
        return;
    }
  }

  async #offer(viewer: Viewer, msg: OfferMessage): Promise<void> {
    const viewerId = viewer.transport.identity.viewerId;
    // Known before the host answers: its candidates may follow the answer at once.
    const replacing = viewer.sessions.has(msg.session);
    viewer.sessions.add(msg.session);
    let sdp: string;
    try {
      sdp = await this.#host.offer({
        viewerId,
        session: msg.session,
        sdp: msg.sdp,
        stream: msg.stream,
        transport: viewer.transport.via,
      });
    } catch (err) {
      // A replacing offer is refused (busy, unsupported) before the host
      // lets go of the old session, so that one stays known.
      if (!replacing) viewer.sessions.delete(msg.session);
      this.#replyHostError(viewer, err, msg.session);
      return;
    }
    this.counters.answers += 1;
    this.#send(viewer.transport, answerMessage(msg.session, sdp));
  }

  /**
   * The STUN/TURN servers for this viewer, TURN credentials made for it
   * (docs/signaling.md, "ICE servers"). A host that has none answers an
   * empty list, so the viewer stops waiting for one. Each reply costs an
   * HMAC and a publish: past the per-viewer budget requests are dropped and
   * counted (the viewer gathers without them once the answer is in).
   */
  #replyIceServers(viewer: Viewer): void {
    const viewerId = viewer.transport.identity.viewerId;
    if (!this.#iceServerReplies.take(viewerId)) {
      this.counters.dropped += 1;
      return;
    }
    let servers;
    try {
      servers = this.#host.iceServersFor?.(viewerId) ?? { iceServers: [] };
    } catch (err) {
      this.counters.hostErrors += 1;
      this.#emitError(
        new SignalingError(
          "internal",
          `session host failed on ice-servers: ${errorText(err)}`,
          { viewerId, via: viewer.transport.via },
          { cause: err },
        ),
      );
      servers = { iceServers: [] };
    }
    this.counters.iceServersSent += 1;
    this.#send(viewer.transport, iceServersMessage(servers.iceServers, servers.ttl));
  }

  /**
   * A JPEG of the stream's next frame (docs/signaling.md, "Snapshots"). Not
   * awaited: the viewer's next messages (an offer) need not wait for a
   * camera to start. One at a time per viewer, and a few a minute.
   */
  #snapshot(viewer: Viewer, msg: SnapshotRequestMessage): void {
    const viewerId = viewer.transport.identity.viewerId;
    if (!this.#snapshots) {
      this.#replyError(viewer, "unsupported", "this device takes no snapshots", msg.session);
      return;
    }
    if (this.#snapshotting.has(viewerId) || !this.#snapshotRequests.take(viewerId)) {
      this.counters.rateLimited += 1;
      this.#replyError(
        viewer,
        "busy",
        "too many snapshots from this viewer; retry in a few seconds",
        msg.session,
      );
      return;
    }
    this.#snapshotting.add(viewerId);
    this.#snapshots
      .snapshot({
        viewerId,
        stream: msg.stream,
        ...(msg.width === undefined ? {} : { width: msg.width }),
      })
      .then(
        (s) => {
          this.counters.snapshotsSent += 1;
          this.#send(
            viewer.transport,
            snapshotMessage(msg.session, msg.stream, {
              width: s.width,
              height: s.height,
              ts: Math.round(s.capturedAtMs),
              data: Buffer.from(s.jpeg.buffer, s.jpeg.byteOffset, s.jpeg.byteLength).toString(
                "base64",
              ),
            }),
          );
        },
        (err: unknown) => this.#replyHostError(viewer, err, msg.session),
      )
      .finally(() => this.#snapshotting.delete(viewerId));
  }

  /**
   * A host error with a spec code (bad-request, unsupported, busy...) goes to
   * the viewer as is; anything else is a bug here, so the viewer gets a plain
   * `internal` and the details go to the log.
   */
  #replyHostError(viewer: Viewer, err: unknown, session: string): void {
    if (err instanceof SignalingError && err.code !== "internal") {
      this.#replyError(viewer, err.code, err.message, session);
      return;
    }
    this.counters.hostErrors += 1;
    this.#emitError(
      new SignalingError(
        "internal",
        `session host failed: ${errorText(err)}`,
        { viewerId: viewer.transport.identity.viewerId, session, via: viewer.transport.via },
        { cause: err },
      ),
    );
    this.#replyError(viewer, "internal", "internal error", session);
  }

  #replyError(viewer: Viewer, code: ErrorCode, message: string, session: string | undefined): void {
    // An error reply costs the transport as much as the message that caused
    // it: past the per-viewer budget, drop and count instead of amplifying a flood.
    if (!this.#errorReplies.take(viewer.transport.identity.viewerId)) {
      this.counters.dropped += 1;
      return;
    }
    this.counters.countErrorReply(code);
    this.#send(viewer.transport, errorMessage(code, message, session));
  }

  #send(transport: ViewerTransport, message: ViewerInbound): void {
    if (this.#closed) return;
    const sent = transport.send(message).catch((err: unknown) => {
      this.counters.dropped += 1;
      this.#emitError(err instanceof Error ? err : new Error(String(err)));
    });
    this.#collecting?.push(sent);
  }

  #forgetIfIdle(viewerId: string, viewer: Viewer): void {
    if (viewer.pending > 0 || viewer.sessions.size > 0) return;
    if (this.#viewers.get(viewerId) === viewer) this.#viewers.delete(viewerId);
  }

  /** Node's EventEmitter throws an unheard "error"; signaling trouble must never crash the device. */
  #emitError(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Messages waiting for their turn, across all viewers: one is let through per
 * turn of the event loop, so pending I/O (RTP to every viewer, other
 * viewers' messages) runs between any two, however many arrive at once.
 * (One setImmediate each would not do: Node runs every immediate queued in
 * a turn back to back.)
 */
const waitingTurns: (() => void)[] = [];
let turnScheduled = false;

/** Messages still waiting for their turn, across all dispatchers (tests and fuzzing settle on 0). */
export function messagesWaitingTurn(): number {
  return waitingTurns.length;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    waitingTurns.push(resolve);
    scheduleTurn();
  });
}

function scheduleTurn(): void {
  if (turnScheduled || waitingTurns.length === 0) return;
  turnScheduled = true;
  setImmediate(() => {
    turnScheduled = false;
    waitingTurns.shift()?.();
    scheduleTurn();
  });
}
