/**
 * The DOM of one camera tile: the video, a state cover (what is going on
 * when nothing plays), the stats overlay with its latency plot, and the
 * buttons. It renders what the controller tells it; it decides nothing.
 */
import { button, h } from "./dom.js";
import { drawLatencyPlot } from "./latency-plot.js";
import { formatFigures, type TileFigures } from "./stats-format.js";
import { PHASE_LABELS, type TileModel } from "./tile-state.js";

export interface TileActions {
  toggleStats(): void;
  snapshot(): void;
  fullscreen(): void;
  retry(): void;
  close(): void;
}

export class TileView {
  readonly root: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #title: HTMLElement;
  readonly #badge: HTMLElement;
  readonly #coverTitle: HTMLElement;
  readonly #coverDetail: HTMLElement;
  readonly #cover: HTMLElement;
  readonly #overlay: HTMLElement;
  readonly #rows: HTMLElement;
  readonly #plot: HTMLCanvasElement;
  readonly #statsButton: HTMLButtonElement;
  readonly #retryButton: HTMLButtonElement;
  readonly #snapshotButton: HTMLButtonElement;

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
      height: "60",
      "aria-label": "glass-to-glass latency, last 300 frames",
    });
    this.#overlay = h("div", { class: "overlay", hidden: true }, this.#rows, this.#plot);
    this.#statsButton = button("Stats", {
      "aria-pressed": "false",
      title: "Stats overlay (S)",
      "data-action": "stats",
    });
    this.#snapshotButton = button("Snapshot", {
      title: "Save this frame as PNG (P)",
      "data-action": "snapshot",
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
    this.#retryButton.addEventListener("click", () => actions.retry());
    fullscreen.addEventListener("click", () => actions.fullscreen());
    close.addEventListener("click", () => actions.close());
    const stage = h("div", { class: "stage" }, this.video, this.#cover, this.#overlay);
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
      stage,
      h(
        "div",
        { class: "tile-actions" },
        this.#statsButton,
        this.#snapshotButton,
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
        : PHASE_LABELS[model.phase];
    this.#badge.textContent = label;
    this.#badge.dataset.phase = model.phase;
    this.#coverTitle.textContent = label;
    this.#coverDetail.textContent = model.detail;
    this.#cover.hidden = model.phase === "playing";
    this.#snapshotButton.disabled = model.phase !== "playing";
    this.#retryButton.hidden = !["busy", "retrying", "unreachable"].includes(model.phase);
  }

  get statsVisible(): boolean {
    return !this.#overlay.hidden;
  }

  setStatsVisible(visible: boolean): void {
    this.#overlay.hidden = !visible;
    this.#statsButton.setAttribute("aria-pressed", String(visible));
  }

  renderFigures(figures: TileFigures, samples: readonly number[]): void {
    if (this.#overlay.hidden) return;
    const rows = formatFigures(figures).flatMap(([label, value]) => [
      h("dt", {}, label),
      h("dd", { "data-figure": label.toLowerCase().replace(/\s+/g, "-") }, value),
    ]);
    this.#rows.replaceChildren(...rows);
    drawLatencyPlot(this.#plot, samples);
  }
}
