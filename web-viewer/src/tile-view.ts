/**
 * The DOM of one camera tile: the video, a state cover (what is going on
 * when nothing plays), the stats panel with its latency plot (beside the
 * picture, or under it when the tile is narrow: it never covers the video),
 * a note on the frame stamp, and the buttons. It renders what the
 * controller tells it; it decides nothing.
 */
import { button, h } from "./dom.js";
import { drawLatencyPlot } from "./latency-plot.js";
import { formatFigures, type TileFigures } from "./stats-format.js";
import { PHASE_LABELS, type TileModel } from "./tile-state.js";

export interface TileActions {
  toggleStats(): void;
  snapshot(): void;
  /** Hear the camera's microphone, or not. */
  toggleSound(): void;
  /** Push-to-talk pressed (true) or released (false). */
  talk(on: boolean): void;
  fullscreen(): void;
  retry(): void;
  close(): void;
}

/** Set once a person dismissed the frame-stamp note; every tile then leaves it out. */
export const STAMP_NOTE_KEY = "camgw.stampNoteDismissed";

function stampNoteDismissed(): boolean {
  try {
    return localStorage.getItem(STAMP_NOTE_KEY) === "1";
  } catch {
    return false; // storage blocked: show the note
  }
}

export class TileView {
  readonly root: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #title: HTMLElement;
  readonly #badge: HTMLElement;
  readonly #coverTitle: HTMLElement;
  readonly #coverDetail: HTMLElement;
  readonly #cover: HTMLElement;
  readonly #stats: HTMLElement;
  readonly #rows: HTMLElement;
  readonly #plot: HTMLCanvasElement;
  readonly #plotCaption: HTMLElement;
  readonly #stampNote: HTMLElement;
  readonly #statsButton: HTMLButtonElement;
  readonly #retryButton: HTMLButtonElement;
  readonly #snapshotButton: HTMLButtonElement;
  readonly #soundButton: HTMLButtonElement;
  readonly #talkButton: HTMLButtonElement;

  constructor(deviceId: string, actions: TileActions) {
    this.video = h("video", {
      autoplay: true,
      muted: true,
      playsinline: true,
      disablepictureinpicture: true,
    });
    // The attribute alone does not mute a video whose srcObject is set by script in every browser.
    this.video.muted = true;
    this.#title = h("h2", { class: "tile-title" }, deviceId);
    this.#badge = h("span", { class: "badge", "data-role": "phase" });
    this.#coverTitle = h("strong", {});
    this.#coverDetail = h("span", { class: "detail" });
    this.#cover = h(
      "div",
      { class: "cover", role: "status", "aria-live": "polite" },
      this.#coverTitle,
      this.#coverDetail,
    );
    this.#rows = h("dl", { class: "figures" });
    this.#plot = h("canvas", {
      class: "plot",
      width: "240",
      height: "72",
      role: "img",
      "aria-label": "Plot of glass-to-glass latency over the last frames",
    });
    this.#plotCaption = h("figcaption", {}, "Glass-to-glass latency");
    this.#stats = h(
      "aside",
      { class: "stats", hidden: true, "aria-label": `Stats of ${deviceId}` },
      this.#rows,
      h(
        "figure",
        { class: "plot-box" },
        this.#plotCaption,
        this.#plot,
        h(
          "p",
          { class: "plot-axes" },
          "Up: latency in ms (scale top left). Across: frames, oldest left, newest right.",
        ),
      ),
    );
    const dismiss = button("Got it", {
      class: "link",
      title: "Hide this note on every camera",
      "data-action": "dismiss-stamp-note",
    });
    this.#stampNote = h(
      "p",
      { class: "stamp-note", hidden: true },
      h(
        "span",
        {},
        "The black-and-white stripe along the top of the picture is the frame stamp: the " +
          "camera's capture time as 64 bits, drawn by the virtual camera. This page reads it to " +
          "measure glass-to-glass latency (Stats). A real camera has none.",
      ),
      dismiss,
    );
    dismiss.addEventListener("click", () => {
      try {
        localStorage.setItem(STAMP_NOTE_KEY, "1");
      } catch {
        // storage blocked: hide it on this tile only
      }
      this.#stampNote.hidden = true;
    });
    this.#statsButton = button("Stats", {
      "aria-pressed": "false",
      title: "Stats beside the picture (S)",
      "data-action": "stats",
    });
    this.#snapshotButton = button("Snapshot", {
      title: "Save this frame as PNG (P)",
      "data-action": "snapshot",
    });
    // Sound starts muted: browsers refuse to autoplay sound before a gesture,
    // and a camera's microphone should not surprise anyone.
    this.#soundButton = button("Sound", {
      "aria-pressed": "false",
      hidden: true,
      title: "Hear the camera's microphone (M)",
      "data-action": "sound",
    });
    this.#talkButton = button("Hold to talk", {
      "aria-pressed": "false",
      hidden: true,
      title: "Hold to talk through the camera's speaker",
      "data-action": "talk",
    });
    this.#retryButton = button("Retry", { hidden: true, "data-action": "retry" });
    const fullscreen = button("Full screen", {
      title: "Full screen (F)",
      "data-action": "fullscreen",
    });
    const close = button("Close", {
      title: "Stop watching this camera",
      "aria-label": `Stop watching ${deviceId}`,
      "data-action": "close",
    });
    this.#statsButton.addEventListener("click", () => actions.toggleStats());
    this.#snapshotButton.addEventListener("click", () => actions.snapshot());
    this.#soundButton.addEventListener("click", () => actions.toggleSound());
    // Pointer events cover mouse and touch; leaving the button or a cancelled
    // touch ends the talk as a release does.
    this.#talkButton.addEventListener("pointerdown", (event) => {
      this.#talkButton.setPointerCapture(event.pointerId);
      actions.talk(true);
    });
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"] as const) {
      this.#talkButton.addEventListener(type, () => actions.talk(false));
    }
    this.#talkButton.addEventListener("keydown", (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) actions.talk(true);
    });
    this.#talkButton.addEventListener("keyup", (event) => {
      if (event.key === " " || event.key === "Enter") actions.talk(false);
    });
    this.#retryButton.addEventListener("click", () => actions.retry());
    fullscreen.addEventListener("click", () => actions.fullscreen());
    close.addEventListener("click", () => actions.close());
    const stage = h("div", { class: "stage" }, this.video, this.#cover);
    // Double-click is the usual video gesture for full screen.
    stage.addEventListener("dblclick", () => actions.fullscreen());
    this.root = h(
      "article",
      {
        class: "tile",
        "data-device": deviceId,
        "data-phase": "unreachable",
        tabindex: "-1",
        "aria-label": `Camera ${deviceId}`,
      },
      h("header", { class: "tile-bar" }, this.#title, this.#badge),
      h("div", { class: "tile-body" }, stage, this.#stats),
      this.#stampNote,
      h(
        "div",
        { class: "tile-actions" },
        this.#statsButton,
        this.#snapshotButton,
        this.#soundButton,
        this.#talkButton,
        fullscreen,
        this.#retryButton,
        close,
      ),
    );
  }

  setName(name: string | undefined, deviceId: string): void {
    this.#title.textContent = name && name !== deviceId ? `${name} (${deviceId})` : deviceId;
  }

  renderModel(model: TileModel): void {
    this.root.dataset.phase = model.phase;
    // A camera that never published a status may not exist: say so, not "offline".
    const label =
      model.phase === "offline" && model.online === undefined
        ? "No status from this camera"
        : model.phase === "unavailable" && model.camera === "recovering"
          ? "Camera recovering"
          : PHASE_LABELS[model.phase];
    this.#badge.textContent = label;
    this.#badge.dataset.phase = model.phase;
    this.#coverTitle.textContent = label;
    this.#coverDetail.textContent = model.detail;
    this.#cover.hidden = model.phase === "playing";
    // Over the last frame, which stays on screen, rather than instead of it.
    this.#cover.dataset.phase = model.phase;
    this.#snapshotButton.disabled = model.phase !== "playing";
    this.#retryButton.hidden = !["busy", "retrying", "unreachable"].includes(model.phase);
  }

  /** Shows the sound buttons the camera's answer allows (hidden: it has no such sound). */
  setAudio(audio: { listen: boolean; talk: boolean }): void {
    this.#soundButton.hidden = !audio.listen;
    this.#talkButton.hidden = !audio.talk;
    if (!audio.listen) this.setSoundOn(false);
    if (!audio.talk) this.setTalking(false);
  }

  setSoundOn(on: boolean): void {
    this.video.muted = !on;
    this.#soundButton.setAttribute("aria-pressed", String(on));
  }

  setTalking(on: boolean, problem?: string): void {
    this.#talkButton.setAttribute("aria-pressed", String(on));
    this.#talkButton.textContent = on ? "Talking…" : "Hold to talk";
    this.#talkButton.title = problem ?? "Hold to talk through the camera's speaker";
  }

  get statsVisible(): boolean {
    return !this.#stats.hidden;
  }

  setStatsVisible(visible: boolean): void {
    this.#stats.hidden = !visible;
    this.#statsButton.setAttribute("aria-pressed", String(visible));
  }

  /** Shows the note on the stamp band once the picture is seen to carry one. */
  setStamped(stamped: boolean): void {
    this.#stampNote.hidden = !stamped || stampNoteDismissed();
  }

  renderFigures(figures: TileFigures, samples: readonly number[]): void {
    if (this.#stats.hidden) return;
    const rows = formatFigures(figures).flatMap(([label, value]) => [
      h("dt", {}, label),
      h("dd", { "data-figure": label.toLowerCase().replace(/\s+/g, "-") }, value),
    ]);
    this.#rows.replaceChildren(...rows);
    this.#plotCaption.textContent =
      samples.length > 0
        ? `Glass-to-glass latency, last ${samples.length} frames`
        : "Glass-to-glass latency (needs stamped frames)";
    drawLatencyPlot(this.#plot, samples);
  }
}
