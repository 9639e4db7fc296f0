/**
 * One viewer-side call (one `session` with one device), signaling v1. The
 * ViewerClient creates it, routes the device's messages on tx/<viewerId> to
 * it, and publishes what it sends. Isomorphic (browser and Node).
 */
import { CamgwError, type ErrorContext } from "../errors.js";
import {
  DEFAULT_STREAM,
  byeMessage,
  candidateMessage,
  iceServersRequest,
  offerMessage,
  type ByeReason,
  type DeviceInbound,
  type ErrorCode,
  type IceCandidate,
  type SourceUpdate,
  type IceServerEntry,
  type ViewerInbound,
} from "./messages.js";
import { TypedEmitter } from "./typed-emitter.js";

/**
 * Why a call failed: the spec's error code the device replied with, or a
 * cause on this side (no answer in time, the call ended, the client closed).
 */
export type CallErrorCode = ErrorCode | "timeout" | "ended" | "closed";

/** A viewer's call failed or ended; `code` says why (CallErrorCode). */
export class CallError extends CamgwError {
  declare readonly code: CallErrorCode;

  constructor(
    code: CallErrorCode,
    message: string,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
  }
}

/** How a call ended: the device's bye reason, "hangup" (this side), or a failure. */
export type CallEndCause = ByeReason | "bye" | "hangup" | "error" | "timeout" | "closed";

export interface CallEvents extends Record<string, unknown[]> {
  /** The device's answer SDP (also the value of `answer`/`renegotiate`). */
  answer: [sdp: string];
  /** A remote ICE candidate, in order; null is end-of-candidates. */
  candidate: [candidate: IceCandidate | null];
  /** An error reply that did not end the call (e.g. not-found for a late candidate). */
  error: [error: CallError];
  /** The device's camera for this call changed state: unavailable, recovering, live again. */
  source: [update: SourceUpdate];
  /** The device's ICE servers for this viewer (it sends them before its answer). */
  "ice-servers": [servers: IceServerEntry[]];
  /** The device asks for an ICE restart: a new offer on this session (renegotiate). */
  "ice-restart": [reason: string];
  /** The call is over; nothing more will be emitted or sent. */
  ended: [cause: CallEndCause];
}

export interface CallTransport {
  /** Publishes one message to rx/<viewerId> of this call's device. */
  send(message: DeviceInbound): Promise<void>;
  /** Waits until tx/<viewerId> of this call's device is subscribed. */
  ready(): Promise<void>;
  /** Tells the client the call is over so it stops routing to it. */
  release(): void;
}

interface Pending {
  resolve: (sdp: string) => void;
  reject: (error: CallError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Call extends TypedEmitter<CallEvents> {
  readonly deviceId: string;
  readonly session: string;
  /** Resolves with the first answer; rejects with a CallError (busy, unsupported, timeout...). */
  readonly answer: Promise<string>;
  /**
   * The ICE servers the device gave for this call, or null when its answer
   * came without them (a device that does not know the request) or the call
   * ended first. Never rejects. A viewer that has none cached makes its
   * offer, sends it, and gathers once this settles (docs/signaling.md,
   * "ICE servers"), so relay candidates are in the first attempt without a
   * round trip of its own.
   */
  readonly iceServers: Promise<IceServerEntry[] | null>;
  #settleIceServers: (servers: IceServerEntry[] | null) => void = () => undefined;
  readonly #transport: CallTransport;
  readonly #answerTimeoutMs: number;
  #pending: Pending | undefined;
  /** Candidates sent before the offer went out wait here, so the device sees the offer first. */
  #queue: DeviceInbound[] | undefined = [];
  #ended = false;
  /** The offer awaiting its answer, to send again if it may have gone nowhere. */
  #offer: { sdp: string; stream: string };
  /**
   * The offer may have reached no device: it was away (offline, or this
   * client lost the broker) while the answer was awaited. MQTT keeps no
   * message for a device that is not connected (its session is clean).
   */
  #offerMayBeLost = false;

  constructor(
    deviceId: string,
    session: string,
    offer: { sdp: string; stream: string },
    transport: CallTransport,
    answerTimeoutMs: number,
  ) {
    super();
    this.deviceId = deviceId;
    this.session = session;
    this.#transport = transport;
    this.#answerTimeoutMs = answerTimeoutMs;
    this.#offer = offer;
    this.iceServers = new Promise((resolve) => {
      this.#settleIceServers = resolve;
    });
    this.answer = this.#expectAnswer();
    // The caller may never await `answer` (it listens to events instead):
    // a rejection must not become an unhandled one.
    this.answer.catch(() => undefined);
    void this.#start(offer);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Trickles a local candidate (null: end-of-candidates) to the device. */
  sendCandidate(candidate: IceCandidate | null): void {
    this.#send(candidateMessage(this.session, candidate));
  }

  /**
   * Sends a new offer for the same session (ICE restart or renegotiation);
   * the device replaces the session without a bye.
   */
  renegotiate(sdp: string, stream = DEFAULT_STREAM): Promise<string> {
    if (this.#ended) return Promise.reject(this.#error("ended", "the call has ended"));
    this.#pending?.reject(this.#error("ended", "replaced by a new offer"));
    this.#offer = { sdp, stream };
    this.#offerMayBeLost = false;
    const answer = this.#expectAnswer();
    // Fresh credentials for the next time (a restart uses what it has).
    this.#send(iceServersRequest());
    this.#send(offerMessage(this.session, sdp, stream));
    return answer;
  }

  /**
   * The device was offline, or this client lost the broker, while the
   * answer is awaited: the offer may have reached nobody (ViewerClient).
   */
  offerMayBeLost(): void {
    if (this.#pending && !this.#ended) this.#offerMayBeLost = true;
  }

  /**
   * The device announced itself online anew (a new status). An offer that
   * may have gone nowhere goes again, and the answer gets its whole time
   * from now: a viewer that started while the broker restarted would
   * otherwise time out seconds after the device came back (`make soak`).
   */
  deviceAnnounced(): void {
    const pending = this.#pending;
    if (!pending || this.#ended || !this.#offerMayBeLost) return;
    this.#offerMayBeLost = false;
    // Not out yet (#start waits for the tx/ subscription): it goes now, once.
    if (this.#queue) return;
    clearTimeout(pending.timer);
    pending.timer = this.#answerTimer();
    this.#send(iceServersRequest());
    this.#send(offerMessage(this.session, this.#offer.sdp, this.#offer.stream));
  }

  /** Says bye to the device and ends the call; safe to call twice. */
  hangup(): void {
    if (this.#ended) return;
    this.#send(byeMessage(this.session));
    this.#end("hangup", this.#error("ended", "hung up"));
  }

  /** Ends the call without telling the device (the client is closing). */
  abandon(): void {
    this.#end("closed", this.#error("closed", "the viewer client closed"));
  }

  /** A message from the device for this session. */
  receive(message: ViewerInbound): void {
    if (this.#ended) return;
    switch (message.type) {
      case "ice-servers":
        this.#settleIceServers(message.iceServers);
        this.emit("ice-servers", message.iceServers);
        return;
      case "ice-restart":
        this.emit("ice-restart", message.reason ?? "asked by the device");
        return;
      case "answer":
        // No ice-servers before it: the device does not know the request.
        this.#settleIceServers(null);
        if (this.#pending) {
          clearTimeout(this.#pending.timer);
          this.#pending.resolve(message.sdp);
          this.#pending = undefined;
        }
        this.emit("answer", message.sdp);
        return;
      case "candidate":
        this.emit("candidate", message.candidate);
        return;
      case "bye":
        this.#end(
          message.reason ?? "bye",
          this.#error("ended", `the device ended the call (${message.reason ?? "bye"})`),
        );
        return;
      case "source": {
        const { stream, state, reason } = message;
        this.emit("source", reason === undefined ? { stream, state } : { stream, state, reason });
        return;
      }
      case "error": {
        const error = this.#error(message.code, message.message || message.code);
        // Before the answer the device kept no session: the call is over.
        if (this.#pending) this.#end("error", error);
        else this.emit("error", error);
        return;
      }
    }
  }

  async #start(offer: { sdp: string; stream: string }): Promise<void> {
    try {
      // Subscribe to tx first, or a fast answer could be lost (spec, "Topics").
      await this.#transport.ready();
      if (this.#ended) return;
      // The ICE servers first: the device replies before it answers, and the
      // reply arrives while this viewer would be waiting for the answer anyway.
      this.#transport.send(iceServersRequest()).catch(() => undefined);
      const sending = this.#transport.send(offerMessage(this.session, offer.sdp, offer.stream));
      // MQTT.js sends publishes in call order, so what waited goes out right
      // behind the offer without waiting for its PUBACK.
      const queued = this.#queue ?? [];
      this.#queue = undefined;
      for (const message of queued) this.#send(message);
      await sending;
    } catch (err) {
      this.#end("error", this.#error("closed", `could not send the offer: ${String(err)}`));
    }
  }

  #send(message: DeviceInbound): void {
    if (this.#ended) return;
    if (this.#queue) {
      this.#queue.push(message);
      return;
    }
    // QoS 1 publishes from one client go out in order; a failure here means
    // the client is closing, which ends the call through abandon().
    this.#transport.send(message).catch(() => undefined);
  }

  #expectAnswer(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#pending = { resolve, reject, timer: this.#answerTimer() };
    });
  }

  #answerTimer(): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      const pending = this.#pending;
      if (!pending) return;
      this.#pending = undefined;
      const error = this.#error("timeout", `no answer within ${this.#answerTimeoutMs} ms`);
      pending.reject(error);
      // Tell the device, in case its answer is merely late: it frees the session.
      this.#send(byeMessage(this.session));
      this.#end("timeout", error);
    }, this.#answerTimeoutMs);
  }

  #end(cause: CallEndCause, error: CallError): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#pending) {
      clearTimeout(this.#pending.timer);
      this.#pending.reject(error);
      this.#pending = undefined;
    }
    this.#queue = undefined;
    this.#settleIceServers(null);
    this.#transport.release();
    this.emit("ended", cause);
  }

  #error(code: CallErrorCode, message: string): CallError {
    return new CallError(code, message, { deviceId: this.deviceId, session: this.session });
  }
}
