import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { SignalingError } from "../errors.js";
import type { ByeReason, IceCandidate, ViewerInbound } from "../signaling/messages.js";
import type {
  InboundSink,
  ViewerIdentity,
  ViewerTransport,
} from "../signaling/viewer-transport.js";

/**
 * One WHEP session (draft-ietf-wish-whep section 3: the HTTP resource a
 * player's POST created): the way back from the signaling dispatcher to one
 * player (a ViewerTransport), and what the HTTP side needs to answer its
 * requests. HTTP cannot push, so the messages the dispatcher sends (answer,
 * our candidates, error, bye) are collected here for the request that is
 * waiting on them: an exchange is one offer sent through the dispatcher and
 * its answer with all our candidates, or its error.
 */

export interface WhepSessionEvents {
  /** The session is over (bye from the gateway, or DELETE): forget it. */
  ended: [reason: ByeReason | "deleted"];
}

/** An answer and the candidates gathered for it (the answer itself holds none). */
export interface Exchange {
  answer: string;
  candidates: IceCandidate[];
  /** End-of-candidates arrived within the gathering time. */
  complete: boolean;
}

interface Pending {
  answer: string | undefined;
  candidates: IceCandidate[];
  complete: boolean;
  gatherMs: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (exchange: Exchange) => void;
  reject: (error: Error) => void;
}

/** Longest wait for the dispatcher's reply to an offer (the host answers within seconds). */
const ANSWER_TIMEOUT_MS = 10_000;

/** A random id, base64url: 24 bytes (192 bits) for URLs nobody can guess (RFC 4086). */
export function unguessableId(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}

/** A strong entity-tag naming one ICE generation (RFC 9110 section 8.8.3). */
export function newEtag(): string {
  return `"${randomBytes(12).toString("base64url")}"`;
}

export class WhepSession extends EventEmitter<WhepSessionEvents> implements ViewerTransport {
  readonly via = "whep";
  readonly identity: ViewerIdentity;
  /** The secret part of the session URL (Location). */
  readonly resourceId = unguessableId();
  /** The signaling session id (not secret; shows in logs). */
  readonly session = unguessableId(9);
  readonly stream: string;
  /** Entity-tag of the current ICE generation. */
  etag = newEtag();
  /** The offer last applied (the first, or the last ICE restart's): restarts start from it. */
  offer = "";
  /** The player's current ICE username fragment. */
  remoteUfrag: string | undefined;
  /** The first media section's mid in the offer: where candidates without one go. */
  firstMid: string | undefined;
  #pending: Pending | undefined;
  #ended = false;

  constructor(account: string, stream: string) {
    super();
    this.stream = stream;
    this.identity = { viewerId: `whep:${this.session}`, account };
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Is an offer (POST or ICE restart) under way? One at a time. */
  get busy(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Sends an offer for this session through `sink` (the dispatcher) and
   * resolves with the answer and our candidates, waiting for end-of-candidates
   * at most `gatherMs` after the answer. Rejects with the SignalingError the
   * dispatcher replied with (bad-request, unsupported, busy, internal), or
   * when the session ends meanwhile.
   */
  exchange(sink: InboundSink, sdp: string, gatherMs: number): Promise<Exchange> {
    if (this.#pending) return Promise.reject(new Error("an offer is already under way"));
    if (this.#ended) return Promise.reject(new Error("the session has ended"));
    return new Promise<Exchange>((resolve, reject) => {
      const pending: Pending = {
        answer: undefined,
        candidates: [],
        complete: false,
        gatherMs,
        timer: undefined,
        resolve,
        reject,
      };
      // The dispatcher always replies, unless the player's error-reply
      // budget dropped the reply (signaling "Floods"): never wait forever.
      pending.timer = setTimeout(() => {
        this.#fail(
          pending,
          new SignalingError("internal", "no answer from the session host", { via: this.via }),
        );
      }, ANSWER_TIMEOUT_MS);
      this.#pending = pending;
      sink.receive(
        this,
        JSON.stringify({ v: 1, type: "offer", session: this.session, sdp, stream: this.stream }),
      );
    });
  }

  /** Trickles the player's candidates (null: end-of-candidates) through `sink`. */
  trickle(sink: InboundSink, candidates: readonly (IceCandidate | null)[]): void {
    for (const candidate of candidates) {
      sink.receive(
        this,
        JSON.stringify({ v: 1, type: "candidate", session: this.session, candidate }),
      );
    }
  }

  /** Ends the session through `sink` (a bye, as the player's DELETE asks). */
  delete(sink: InboundSink): void {
    if (this.#ended) return;
    sink.receive(this, JSON.stringify({ v: 1, type: "bye", session: this.session }));
    this.#end("deleted");
  }

  /** ViewerTransport: what the dispatcher sends this player. */
  send(message: ViewerInbound): Promise<void> {
    const pending = this.#pending;
    switch (message.type) {
      case "answer":
        if (pending && pending.answer === undefined) {
          pending.answer = message.sdp;
          clearTimeout(pending.timer);
          pending.timer = setTimeout(() => this.#finish(pending), pending.gatherMs);
        }
        break;
      case "candidate":
        // After the exchange there is no way to the player (WHEP has no
        // server-to-player trickle); the answer carried what was gathered.
        if (!pending || pending.answer === undefined) break;
        if (message.candidate === null) {
          pending.complete = true;
          this.#finish(pending);
        } else {
          pending.candidates.push(message.candidate);
        }
        break;
      case "error":
        if (pending) {
          this.#fail(pending, new SignalingError(message.code, message.message, { via: this.via }));
        }
        break;
      case "bye":
        this.#end(message.reason ?? "shutdown");
        break;
    }
    return Promise.resolve();
  }

  #finish(pending: Pending): void {
    if (this.#pending !== pending) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve({
      answer: pending.answer ?? "",
      candidates: pending.candidates,
      complete: pending.complete,
    });
  }

  #fail(pending: Pending, error: Error): void {
    if (this.#pending !== pending) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  #end(reason: ByeReason | "deleted"): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#pending) {
      this.#fail(
        this.#pending,
        new SignalingError("internal", "the session ended", { via: this.via }),
      );
    }
    this.emit("ended", reason);
    this.removeAllListeners();
  }
}
