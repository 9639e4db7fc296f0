/**
 * What one camera tile shows and does, as a pure state machine: the tile
 * controller feeds it what happened (broker up/down, camera status, call
 * outcome, first frame) and carries out the effect it returns. Keeping the
 * rules here makes them testable without a browser.
 */

export type Phase =
  /** Broker connected, camera online, a call is being set up. */
  | "connecting"
  | "playing"
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
    detail: "connecting to the broker",
  };
}

/** Browser refused before any signaling: nothing will ever play. */
export function unsupportedModel(why: string): TileModel {
  return { ...initialModel(), phase: "unsupported", detail: why };
}

function startCall(model: TileModel, detail: string): Step {
  return { model: { ...model, phase: "connecting", inCall: true, detail }, effect: "call" };
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
        // signaling reconnects (an external broker restart must not blank it).
        if (model.phase === "playing")
          return { model: { ...next, detail: "signaling reconnecting" }, effect: "none" };
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
        model: { ...model, phase: "playing", detail: model.broker ? "" : "signaling reconnecting" },
        effect: "none",
      };
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
  reconnecting: "Reconnecting",
  offline: "Camera offline",
  unreachable: "Broker unreachable",
  busy: "Viewer limit reached",
  unsupported: "Unsupported",
  retrying: "Reconnecting",
};
