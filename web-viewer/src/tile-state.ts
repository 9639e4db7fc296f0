/**
 * What one camera tile shows and does, as a pure state machine: the tile
 * controller feeds it what happened (broker up/down, camera status, call
 * outcome, first frame) and carries out the effect it returns. Keeping the
 * rules here makes them testable without a browser.
 */

import type { SourceState } from "../../gateway/src/signaling/messages.js";

export type Phase =
  /** Broker connected, camera online, a call is being set up. */
  | "connecting"
  | "playing"
  /**
   * In a call, but the device says its camera is away or being restarted
   * (a `source` message): the session stays, the last frame stays on screen.
   */
  | "unavailable"
  /** It was playing and the picture stopped: ICE is being restarted on the same call. */
  | "reconnecting"
  /** The camera's retained status says offline (or there is none yet). */
  | "offline"
  /** No broker connection and nothing playing. */
  | "unreachable"
  /** The device answered `busy`: its viewer limit is reached. */
  | "busy"
  /** This browser cannot play the stream, or the device refused our offer. */
  | "unsupported"
  /** A call failed or dropped; a retry is scheduled. */
  | "retrying";

export interface TileModel {
  readonly phase: Phase;
  /** Broker connection (signaling) is up. */
  readonly broker: boolean;
  /** The camera's last status; undefined until one arrives. */
  readonly online: boolean | undefined;
  /** A call (peer connection + signaling session) exists. */
  readonly inCall: boolean;
  /** The camera's state as the device last said for this call (live until told otherwise). */
  readonly camera: SourceState;
  /** A person-readable line under the phase. */
  readonly detail: string;
}

export type TileEvent =
  | { readonly type: "broker"; readonly connected: boolean }
  | { readonly type: "status"; readonly online: boolean }
  | { readonly type: "first-frame" }
  /** ICE went disconnected/failed while the signaling call is still alive. */
  | { readonly type: "ice-lost"; readonly state: string }
  /** The call ended (device bye, answer timeout, failed restart...). */
  | { readonly type: "call-ended"; readonly why: string }
  /** The device refused the offer with an error code. */
  | { readonly type: "refused"; readonly code: string; readonly message: string }
  /** The device says the call's camera is unavailable, recovering, or live again. */
  | { readonly type: "source"; readonly state: SourceState; readonly reason?: string }
  /** The retry timer fired, or the person pressed Retry. */
  | { readonly type: "retry" };

export type Effect =
  | "none"
  /** New peer connection and call (same session id, which replaces any old one). */
  | "call"
  /** New offer with ICE restart on the existing call. */
  | "ice-restart"
  /** Close the peer connection and say bye. */
  | "hangup"
  /** Hang up and retry after the backoff. */
  | "retry-later"
  /** Hang up and retry after the long (busy) backoff. */
  | "retry-later-slow";

export interface Step {
  readonly model: TileModel;
  readonly effect: Effect;
}

export function initialModel(): TileModel {
  return {
    phase: "unreachable",
    broker: false,
    online: undefined,
    inCall: false,
    camera: "live",
    detail: "connecting to the broker",
  };
}

/** What a person reads under "Camera unavailable", from the device's reason. */
export function describeSource(state: SourceState, reason: string | undefined): string {
  const restarting = state === "recovering" ? "restarting it" : "waiting for it to come back";
  switch (reason) {
    case "unplugged":
      return "the camera was disconnected; waiting for it to come back";
    case "encoder-stalled":
      return "the video encoder stalled; restarting it";
    case "camera-stalled":
      return "the camera stopped sending pictures; restarting it";
    case "command-exited":
      return "the camera program stopped; restarting it";
    case "command-quiet":
      return "the camera program went quiet; restarting it";
    case "error":
      return `the camera failed; ${restarting}`;
    default:
      return reason ? `${reason}; ${restarting}` : restarting;
  }
}

/** Browser refused before any signaling: nothing will ever play. */
export function unsupportedModel(why: string): TileModel {
  return { ...initialModel(), phase: "unsupported", detail: why };
}

function startCall(model: TileModel, detail: string): Step {
  return {
    model: { ...model, phase: "connecting", inCall: true, camera: "live", detail },
    effect: "call",
  };
}

/** Phases in which media may still flow while signaling is away. */
function mediaUp(phase: Phase): boolean {
  return phase === "playing" || phase === "unavailable";
}

/** Phases from which a new call may start on its own. */
function idle(phase: Phase): boolean {
  return phase === "offline" || phase === "unreachable" || phase === "retrying";
}

export function step(model: TileModel, event: TileEvent): Step {
  if (model.phase === "unsupported") return { model, effect: "none" };
  switch (event.type) {
    case "broker": {
      const next = { ...model, broker: event.connected };
      if (!event.connected) {
        // Media does not need the broker: a playing call keeps playing while
        // signaling reconnects (an external broker restart must not blank it),
        // and a call waiting for its camera keeps its session.
        if (mediaUp(model.phase))
          return {
            model: {
              ...next,
              detail:
                model.phase === "playing"
                  ? "signaling reconnecting"
                  : `${model.detail} (signaling reconnecting)`,
            },
            effect: "none",
          };
        return {
          model: {
            ...next,
            phase: "unreachable",
            inCall: false,
            detail: "no connection to the broker; retrying every second",
          },
          effect: model.inCall ? "hangup" : "none",
        };
      }
      if (model.phase === "playing") return { model: { ...next, detail: "" }, effect: "none" };
      if (model.phase === "unavailable")
        return {
          model: { ...next, detail: describeSource(model.camera, undefined) },
          effect: "none",
        };
      if (model.online === true && idle(model.phase)) return startCall(next, "broker connected");
      if (model.online === undefined) {
        return {
          model: { ...next, phase: "offline", detail: "waiting for the camera's status" },
          effect: "none",
        };
      }
      if (!model.online)
        return { model: { ...next, phase: "offline", detail: "camera offline" }, effect: "none" };
      return { model: next, effect: "none" };
    }
    case "status": {
      const next = { ...model, online: event.online };
      if (!event.online) {
        return {
          model: { ...next, phase: "offline", inCall: false, detail: "camera offline" },
          effect: model.inCall ? "hangup" : "none",
        };
      }
      // Back online after offline: a fresh call (the old session died with the device).
      if (model.broker && (idle(model.phase) || model.online === false))
        return startCall(next, "camera online");
      return { model: next, effect: "none" };
    }
    case "first-frame":
      if (!model.inCall) return { model, effect: "none" };
      return {
        model: {
          ...model,
          phase: "playing",
          camera: "live",
          detail: model.broker ? "" : "signaling reconnecting",
        },
        effect: "none",
      };
    case "source": {
      if (!model.inCall) return { model, effect: "none" };
      const next = { ...model, camera: event.state };
      if (event.state !== "live") {
        // A camera away explains a picture that stopped better than the
        // network does: a tile reconnecting says the camera is unavailable.
        if (
          model.phase !== "playing" &&
          model.phase !== "connecting" &&
          model.phase !== "reconnecting" &&
          model.phase !== "unavailable"
        )
          return { model: next, effect: "none" };
        return {
          model: {
            ...next,
            phase: "unavailable",
            detail: describeSource(event.state, event.reason),
          },
          effect: "none",
        };
      }
      // Back: the picture follows (its first frame makes the tile "playing").
      if (model.phase === "unavailable")
        return {
          model: {
            ...next,
            phase: "connecting",
            detail: "the camera is back; waiting for the picture",
          },
          effect: "none",
        };
      return { model: next, effect: "none" };
    }
    case "ice-lost":
      if (!model.inCall) return { model, effect: "none" };
      if (!model.broker) {
        // No signaling to restart ICE over: start again once the broker is back.
        return {
          model: {
            ...model,
            phase: "unreachable",
            inCall: false,
            detail: `connection ${event.state}, broker unreachable`,
          },
          effect: "hangup",
        };
      }
      return {
        model: {
          ...model,
          // A picture that was there is coming back: say so, not "connecting".
          phase:
            model.phase === "playing" || model.phase === "reconnecting"
              ? "reconnecting"
              : "connecting",
          detail: `connection ${event.state}, restarting ICE`,
        },
        effect: "ice-restart",
      };
    case "call-ended":
      if (!model.inCall) return { model, effect: "none" };
      if (model.online === false)
        return { model: { ...model, phase: "offline", inCall: false }, effect: "none" };
      return {
        model: { ...model, phase: "retrying", inCall: false, detail: `${event.why}, retrying` },
        effect: "retry-later",
      };
    case "refused": {
      if (!model.inCall) return { model, effect: "none" };
      const ended = { ...model, inCall: false };
      if (event.code === "busy") {
        return {
          model: { ...ended, phase: "busy", detail: event.message || "viewer limit reached" },
          effect: "retry-later-slow",
        };
      }
      if (event.code === "unsupported") {
        return {
          model: {
            ...ended,
            phase: "unsupported",
            detail: event.message || "the camera refused this browser's offer",
          },
          effect: "hangup",
        };
      }
      return {
        model: { ...ended, phase: "retrying", detail: `${event.code}: ${event.message}, retrying` },
        effect: "retry-later",
      };
    }
    case "retry":
      if (model.inCall) return { model, effect: "none" };
      if (!model.broker)
        return {
          model: {
            ...model,
            phase: "unreachable",
            detail: "no connection to the broker; retrying every second",
          },
          effect: "none",
        };
      if (model.online === false)
        return { model: { ...model, phase: "offline", detail: "camera offline" }, effect: "none" };
      return startCall(model, "retrying");
  }
}

/** Short labels for the badge on each tile. */
export const PHASE_LABELS: Readonly<Record<Phase, string>> = {
  connecting: "Connecting",
  playing: "Live",
  unavailable: "Camera unavailable",
  reconnecting: "Reconnecting",
  offline: "Camera offline",
  unreachable: "Broker unreachable",
  busy: "Viewer limit reached",
  unsupported: "Unsupported",
  retrying: "Reconnecting",
};
