/**
 * The camera list, live from the retained status messages: online or
 * offline, name, resolution. Each row is one button: click it (or Enter or
 * Space on it) to watch the camera, again to stop.
 */
import type { DeviceState } from "../../gateway/src/signaling/viewer-client.js";
import { h } from "./dom.js";

/** What a row says under the name: the id when the name is not the id, state, main stream. */
export function describeDevice(device: DeviceState): string {
  const stream = device.streams.find((s) => s.id === "main") ?? device.streams[0];
  // A device that reports its camera away (docs/signaling.md, "source") is online without a picture.
  const away = device.online && stream?.state !== undefined && stream.state !== "live";
  const parts = [device.online ? (away ? `online, camera ${stream.state}` : "online") : "offline"];
  if (device.name !== undefined && device.name !== device.deviceId) parts.unshift(device.deviceId);
  if (stream) parts.push(`${stream.width}×${stream.height} @ ${stream.fps} fps`);
  return parts.join(" · ");
}

/** Online first, then by name (or id). */
export function sortDevices(devices: Iterable<DeviceState>): DeviceState[] {
  return [...devices].sort(
    (a, b) =>
      Number(b.online) - Number(a.online) ||
      (a.name ?? a.deviceId).localeCompare(b.name ?? b.deviceId) ||
      a.deviceId.localeCompare(b.deviceId),
  );
}

export class CameraList {
  readonly root: HTMLElement;
  readonly #list: HTMLUListElement;
  readonly #empty: HTMLElement;
  readonly #devices = new Map<string, DeviceState>();
  #watching: ReadonlySet<string> = new Set();
  readonly #onToggle: (deviceId: string) => void;

  constructor(onToggle: (deviceId: string) => void) {
    this.#onToggle = onToggle;
    this.#list = h("ul", { class: "camera-list" });
    this.#empty = h(
      "p",
      { class: "hint" },
      "No cameras yet: waiting for status messages from the broker.",
    );
    this.root = h(
      "nav",
      { class: "cameras", "aria-label": "Cameras" },
      h("h2", {}, "Cameras"),
      this.#empty,
      this.#list,
    );
  }

  /** Replaces everything known (a new broker connection). */
  reset(): void {
    this.#devices.clear();
    this.render();
  }

  update(device: DeviceState): void {
    this.#devices.set(device.deviceId, device);
    this.render();
  }

  remove(deviceId: string): void {
    this.#devices.delete(deviceId);
    this.render();
  }

  setWatching(watching: ReadonlySet<string>): void {
    this.#watching = watching;
    this.render();
  }

  render(): void {
    this.#empty.hidden = this.#devices.size > 0;
    const focused = this.root.ownerDocument.activeElement;
    const focusedId = focused instanceof HTMLElement ? focused.dataset.device : undefined;
    const items = sortDevices(this.#devices.values()).map((device) => {
      const watching = this.#watching.has(device.deviceId);
      const name = device.name ?? device.deviceId;
      // The whole row is the control: a button is reachable with Tab and
      // works with Enter and Space, and a screen reader says "pressed".
      const toggle = h(
        "button",
        {
          type: "button",
          class: "camera-toggle",
          "aria-pressed": String(watching),
          "data-device": device.deviceId,
          "aria-label": `${watching ? "Stop watching" : "Watch"} ${name}`,
          title: watching ? "Stop watching this camera" : "Watch this camera",
        },
        h("span", { class: "dot", "aria-hidden": "true" }),
        h(
          "span",
          { class: "camera-text" },
          h("span", { class: "camera-name" }, name),
          h("span", { class: "camera-meta" }, describeDevice(device)),
        ),
        h("span", { class: "camera-action", "aria-hidden": "true" }, watching ? "Stop" : "Watch"),
      );
      toggle.addEventListener("click", () => this.#onToggle(device.deviceId));
      const item = h(
        "li",
        { class: "camera", "data-device": device.deviceId, "data-online": String(device.online) },
        toggle,
      );
      return { item, toggle, id: device.deviceId };
    });
    this.#list.replaceChildren(...items.map((i) => i.item));
    // Re-rendering must not steal keyboard focus from the button a person is on.
    items.find((i) => i.id === focusedId)?.toggle.focus();
  }
}
