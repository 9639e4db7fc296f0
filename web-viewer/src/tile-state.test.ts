import { describe, expect, it } from "vitest";
import {
  initialModel,
  PHASE_LABELS,
  step,
  unsupportedModel,
  type TileEvent,
  type TileModel,
} from "./tile-state.js";

/** Runs events from the initial model; returns the last model and every effect. */
function run(events: TileEvent[], from: TileModel = initialModel()) {
  let model = from;
  const effects: string[] = [];
  for (const event of events) {
    const next = step(model, event);
    model = next.model;
    effects.push(next.effect);
  }
  return { model, effects };
}

const up: TileEvent = { type: "broker", connected: true };
const down: TileEvent = { type: "broker", connected: false };
const online: TileEvent = { type: "status", online: true };
const offline: TileEvent = { type: "status", online: false };
const frame: TileEvent = { type: "first-frame" };

describe("tile state machine", () => {
  it("shows broker unreachable until the broker connects", () => {
    expect(initialModel().phase).toBe("unreachable");
    expect(run([down]).model.phase).toBe("unreachable");
  });

  it("waits for the camera's status, then calls and plays", () => {
    const { model, effects } = run([up, online, frame]);
    expect(effects).toEqual(["none", "call", "none"]);
    expect(model.phase).toBe("playing");
  });

  it("calls at once when the status arrived before the broker said connected", () => {
    expect(run([online, up]).effects).toEqual(["none", "call"]);
  });

  it("shows camera offline and does not call an offline camera", () => {
    const { model, effects } = run([up, offline]);
    expect(model.phase).toBe("offline");
    expect(effects).not.toContain("call");
  });

  it("hangs up when the camera goes offline and calls afresh when it is back", () => {
    const { model, effects } = run([up, online, frame, offline, online]);
    expect(effects).toEqual(["none", "call", "none", "hangup", "call"]);
    expect(model.phase).toBe("connecting");
  });

  it("keeps playing while only the broker is down (media does not need it)", () => {
    const { model, effects } = run([up, online, frame, down]);
    expect(model.phase).toBe("playing");
    expect(effects.at(-1)).toBe("none");
    // ...and a retained status re-sent after the broker is back changes nothing.
    expect(run([up, online], model).effects).toEqual(["none", "none"]);
  });

  it("restarts ICE when the connection drops and the broker is up", () => {
    const { model, effects } = run([up, online, frame, { type: "ice-lost", state: "failed" }]);
    expect(effects.at(-1)).toBe("ice-restart");
    expect(model.phase).toBe("reconnecting");
    expect(PHASE_LABELS[model.phase]).toBe("Reconnecting");
    expect(run([frame], model).model.phase).toBe("playing");
  });

  it("says connecting, not reconnecting, when a call that never played restarts ICE", () => {
    const { model, effects } = run([up, online, { type: "ice-lost", state: "failed" }]);
    expect(effects.at(-1)).toBe("ice-restart");
    expect(model.phase).toBe("connecting");
  });

  it("hangs up on ICE loss without a broker and calls again when the broker returns", () => {
    const lost = run([up, online, frame, down, { type: "ice-lost", state: "disconnected" }]);
    expect(lost.effects.at(-1)).toBe("hangup");
    expect(lost.model.phase).toBe("unreachable");
    expect(run([up], lost.model).effects).toEqual(["call"]);
  });

  it("shows busy when the viewer limit is reached and retries slowly", () => {
    const { model, effects } = run([
      up,
      online,
      { type: "refused", code: "busy", message: "1 viewers already" },
    ]);
    expect(model.phase).toBe("busy");
    expect(model.detail).toBe("1 viewers already");
    expect(effects.at(-1)).toBe("retry-later-slow");
    expect(run([{ type: "retry" }], model).effects).toEqual(["call"]);
  });

  it("stops for good when the camera refuses the offer as unsupported", () => {
    const refused = run([
      up,
      online,
      { type: "refused", code: "unsupported", message: "no H.264" },
    ]);
    expect(refused.model.phase).toBe("unsupported");
    expect(run([{ type: "retry" }, online, up], refused.model).effects).toEqual([
      "none",
      "none",
      "none",
    ]);
  });

  it("retries with backoff after a call ends or an answer never comes", () => {
    const ended = run([
      up,
      online,
      frame,
      { type: "call-ended", why: "the camera ended the call (shutdown)" },
    ]);
    expect(ended.model.phase).toBe("retrying");
    expect(ended.effects.at(-1)).toBe("retry-later");
    expect(run([{ type: "retry" }], ended.model).effects).toEqual(["call"]);
  });

  it("does not call on retry while the camera is offline", () => {
    const ended = run([up, online, { type: "call-ended", why: "x" }, offline, { type: "retry" }]);
    expect(ended.effects.at(-1)).toBe("none");
    expect(ended.model.phase).toBe("offline");
  });

  it("ignores late events of a call that is already over", () => {
    const idle = run([up, offline]).model;
    expect(
      run([frame, { type: "ice-lost", state: "failed" }, { type: "call-ended", why: "x" }], idle)
        .effects,
    ).toEqual(["none", "none", "none"]);
  });

  it("never leaves unsupported when the browser cannot play H.264", () => {
    const { model, effects } = run([up, online], unsupportedModel("no H.264"));
    expect(model.phase).toBe("unsupported");
    expect(effects).toEqual(["none", "none"]);
  });
});

describe("tile state machine: the camera away mid-call", () => {
  const unplugged: TileEvent = { type: "source", state: "unavailable", reason: "unplugged" };
  const back: TileEvent = { type: "source", state: "live" };

  it("shows camera unavailable over the picture, keeps the call, and plays again on its next frame", () => {
    const away = run([up, online, frame, unplugged]);
    expect(away.model).toMatchObject({ phase: "unavailable", inCall: true, camera: "unavailable" });
    expect(away.model.detail).toMatch(/disconnected/);
    expect(away.effects.at(-1)).toBe("none");
    const returned = run([back], away.model);
    expect(returned.model.phase).toBe("connecting");
    expect(returned.effects).toEqual(["none"]);
    expect(run([frame], returned.model).model).toMatchObject({ phase: "playing", camera: "live" });
    // The picture may come back before the message that says so.
    expect(run([frame, back], away.model).model.phase).toBe("playing");
  });

  it("says recovering while the device restarts a stalled encoder", () => {
    const { model } = run([
      up,
      online,
      frame,
      { type: "source", state: "recovering", reason: "encoder-stalled" },
    ]);
    expect(model).toMatchObject({ phase: "unavailable", camera: "recovering" });
    expect(model.detail).toMatch(/encoder stalled/);
  });

  it("keeps a call whose camera is away while the broker is down", () => {
    const { model, effects } = run([up, online, frame, unplugged, down]);
    expect(model).toMatchObject({ phase: "unavailable", inCall: true });
    expect(effects.at(-1)).toBe("none");
  });

  it("ends as before when the device gives up (bye source-lost)", () => {
    const { model, effects } = run([
      up,
      online,
      frame,
      unplugged,
      { type: "call-ended", why: "the camera ended the call (source-lost)" },
    ]);
    expect(model.phase).toBe("retrying");
    expect(effects.at(-1)).toBe("retry-later");
  });

  it("ignores a camera state outside a call", () => {
    const idle = run([up, offline]).model;
    expect(run([unplugged], idle).model).toEqual(idle);
  });
});
