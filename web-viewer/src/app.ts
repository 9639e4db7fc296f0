/**
 * The viewer page: wires the login, the broker connection, the camera list,
 * the grid of tiles, the settings form, the link in the address bar and the
 * keyboard.
 */
import { DEFAULT_PREFIX } from "../../gateway/src/signaling/messages.js";
import { ViewerClient, type ConnectionState } from "../../gateway/src/signaling/viewer-client.js";
import { parsePairing } from "../../gateway/src/auth/pairing-link.js";
import { BrokerForm } from "./broker-form.js";
import { CameraList } from "./camera-list.js";
import { button, h } from "./dom.js";
import { keyAction } from "./keys.js";
import { LoginView, type Login } from "./login-view.js";
import { buildViewerQuery, parseViewerQuery } from "./query.js";
import { defaultBrokerUrl, loadSettings, saveSettings, type BrokerSettings } from "./settings.js";
import { CameraTile, type TileSnapshot } from "./tile.js";

/** What tests and the bench read; JSON.stringify(window.camgwStats) gives it all. */
export interface CamgwStats {
  readonly viewerId: string | undefined;
  readonly broker: ConnectionState | "none";
  readonly brokerUrl: string;
  readonly tiles: Readonly<Record<string, TileSnapshot>>;
}

/** Debugging aids for people and tests (from the browser console). */
export interface CamgwDebug {
  /** Restarts ICE on a playing camera, as the page does when the network changes. */
  restartIce(deviceId: string): boolean;
  /** Sends a request on a camera's control channel and resolves with its reply (docs/control.md). */
  control(deviceId: string, request: Parameters<CameraTile["control"]>[0]): Promise<unknown>;
}

declare global {
  interface Window {
    camgwStats?: CamgwStats;
    camgwDebug?: CamgwDebug;
  }
}

class ViewerApp {
  readonly #tiles = new Map<string, CameraTile>();
  readonly #list = new CameraList((id) => this.toggle(id));
  readonly #form = new BrokerForm((settings, remember) => {
    saveSettings(localStorage, settings, remember);
    this.connect(settings);
  });
  readonly #grid = h("section", { class: "grid", "aria-label": "Watched cameras" });
  readonly #emptyGrid = h(
    "p",
    { class: "hint empty-grid" },
    "Pick a camera from the list to watch it. Several make a grid.",
  );
  readonly #brokerChip = h("span", { class: "chip", role: "status", "aria-live": "polite" });
  readonly #login = new LoginView((login) => this.#logIn(login));
  readonly #logout = button("Log out", { class: "logout", hidden: true });
  readonly #main: HTMLElement;
  readonly #notice = h("p", { class: "notice", role: "alert", hidden: true });
  #settings: BrokerSettings;
  #client: ViewerClient | undefined;
  #statsVisible: boolean;

  constructor() {
    const query = parseViewerQuery(location.search);
    this.#settings = loadSettings(localStorage, location, query);
    this.#statsVisible = query.stats;
    if (query.problems.length > 0) this.#showNotice(query.problems.join(". "));
    this.#takePairingLink();
    const header = h(
      "header",
      { class: "top" },
      h("h1", {}, "camgw"),
      this.#brokerChip,
      this.#form.root,
      this.#logout,
    );
    this.#main = h(
      "main",
      { class: "layout" },
      this.#list.root,
      h("div", { class: "grid-wrap" }, this.#emptyGrid, this.#grid),
    );
    document.body.replaceChildren(header, this.#notice, this.#login.root, this.#main);
    this.#logout.addEventListener("click", () => this.#logOut());
    this.#form.show(this.#settings);
    document.addEventListener("keydown", (event) => this.#onKey(event));
    this.#exposeStats();
    // No camera before a login (docs/viewer.md).
    if (this.#settings.username === "") {
      this.#pending = query.devices;
      this.#askLogin();
      return;
    }
    for (const id of query.devices) this.#addTile(id);
    this.connect(this.#settings);
  }

  /** Cameras the link asked for, opened once the person has logged in. */
  #pending: readonly string[] = [];

  /**
   * A pairing link (`#pair=...`): its login is stored for this page's broker
   * and the fragment leaves the address bar at once, so it is in no
   * bookmark, screenshot or shared link. Browsers never send a fragment to
   * the server (RFC 3986 3.5).
   */
  #takePairingLink(): void {
    if (!location.hash.includes("pair=")) return;
    const paired = parsePairing(location.hash);
    history.replaceState(null, "", `${location.pathname}${location.search}`);
    if (!paired) {
      this.#showNotice("This pairing link is damaged: ask for a new one (camgw viewer add).");
      return;
    }
    this.#settings = { ...this.#settings, ...paired };
    saveSettings(localStorage, this.#settings, true);
  }

  #askLogin(reason?: string): void {
    this.#main.hidden = true;
    this.#logout.hidden = true;
    this.#login.show(reason, this.#settings.username);
  }

  #logIn(login: Login): void {
    this.#settings = {
      ...this.#settings,
      username: login.username,
      password: login.password,
      ...(login.token ? { token: login.token } : {}),
    };
    saveSettings(localStorage, this.#settings, true);
    this.#form.show(this.#settings);
    for (const id of this.#pending) this.#addTile(id);
    this.#pending = [];
    this.connect(this.#settings);
  }

  /** Forgets the stored login on this browser and closes every camera. */
  #logOut(): void {
    const { url, prefix } = this.#settings;
    this.#settings = { url, prefix, username: "", password: "" };
    saveSettings(localStorage, this.#settings, false);
    for (const tile of [...this.#tiles.values()]) tile.close();
    const old = this.#client;
    this.#client = undefined;
    void old?.close();
    this.#renderBroker("closed");
    this.#askLogin();
  }

  connect(settings: BrokerSettings): void {
    this.#settings = settings;
    const old = this.#client;
    this.#client = undefined;
    void old?.close();
    this.#list.reset();
    this.#login.hide();
    this.#main.hidden = false;
    this.#logout.hidden = settings.username === "";
    let client: ViewerClient;
    try {
      client = new ViewerClient({
        url: settings.url,
        prefix: settings.prefix,
        ...(settings.username === "" ? {} : { username: settings.username }),
        ...(settings.password === "" ? {} : { password: settings.password }),
        // A LAN broker answers fast: say "unreachable" after 5 s, retry every second.
        mqttOptions: { connectTimeout: 5_000, reconnectPeriod: 1_000 },
      });
    } catch (err) {
      this.#showNotice(err instanceof Error ? err.message : String(err));
      this.#renderBroker("offline");
      return;
    }
    this.#client = client;
    // The old client winds down asynchronously ("closed" comes later): only
    // the current one may touch the page.
    const current = (): boolean => this.#client === client;
    client.on("state", (state) => current() && this.#renderBroker(state));
    client.on("device", (device) => current() && this.#list.update(device));
    client.on("removed", (id) => current() && this.#list.remove(id));
    client.on("error", (err) => {
      if (!current()) return;
      this.#renderBroker(client.state, err.message);
      // CONNACK 4 or 5: the broker refused this login (a removed viewer, a
      // wrong password). Retrying would not help: ask the person.
      const code = (err as { code?: unknown }).code;
      if (code === 4 || code === 5) {
        this.#client = undefined;
        void client.close();
        this.#askLogin(
          `The camera did not accept the login of "${settings.username || "anonymous"}" (${err.message}).`,
        );
      }
    });
    for (const tile of this.#tiles.values()) tile.attach(client);
    this.#renderBroker(client.state);
    this.#syncUrl();
  }

  toggle(deviceId: string): void {
    const tile = this.#tiles.get(deviceId);
    if (tile) tile.close();
    else this.#addTile(deviceId)?.view.root.focus();
  }

  #addTile(deviceId: string): CameraTile | undefined {
    if (this.#tiles.has(deviceId)) return undefined;
    const tile = new CameraTile(deviceId, {
      statsVisible: this.#statsVisible,
      onClose: (closed) => {
        this.#tiles.delete(closed.deviceId);
        this.#afterTilesChanged();
      },
    });
    this.#tiles.set(deviceId, tile);
    this.#grid.append(tile.view.root);
    if (this.#client) tile.attach(this.#client);
    this.#afterTilesChanged();
    return tile;
  }

  #afterTilesChanged(): void {
    this.#emptyGrid.hidden = this.#tiles.size > 0;
    this.#grid.dataset.count = String(this.#tiles.size);
    this.#list.setWatching(new Set(this.#tiles.keys()));
    this.#syncUrl();
  }

  /** Keeps the address bar a link to this view: bookmark it or share it. */
  #syncUrl(): void {
    const search = buildViewerQuery({
      devices: [...this.#tiles.keys()],
      prefix: this.#settings.prefix === DEFAULT_PREFIX ? undefined : this.#settings.prefix,
      broker: this.#settings.url === defaultBrokerUrl(location) ? undefined : this.#settings.url,
      stats: this.#statsVisible,
    });
    if (search !== location.search)
      history.replaceState(null, "", `${location.pathname}${search}${location.hash}`);
  }

  #renderBroker(state: ConnectionState, error?: string): void {
    const label = {
      connecting: "Broker: connecting",
      connected: "Broker: connected",
      offline: "Broker: unreachable",
      closed: "Broker: closed",
    }[state];
    this.#brokerChip.textContent = error && state !== "connected" ? `${label} (${error})` : label;
    this.#brokerChip.dataset.state = state;
    this.#brokerChip.title = this.#settings.url;
  }

  #showNotice(text: string): void {
    this.#notice.textContent = text;
    this.#notice.hidden = false;
  }

  /** The tile a key press is about: the focused one, else the only one. */
  #targetTile(): CameraTile | undefined {
    const focused = document.activeElement?.closest<HTMLElement>(".tile")?.dataset.device;
    if (focused !== undefined) return this.#tiles.get(focused);
    return this.#tiles.size === 1 ? [...this.#tiles.values()][0] : undefined;
  }

  #onKey(event: KeyboardEvent): void {
    const action = keyAction(event);
    if (action === undefined) return;
    event.preventDefault();
    if (action === "stats") {
      this.#statsVisible = !this.#statsVisible;
      for (const tile of this.#tiles.values()) tile.setStatsVisible(this.#statsVisible);
      this.#syncUrl();
      return;
    }
    const tile = this.#targetTile();
    if (action === "fullscreen") tile?.fullscreen();
    if (action === "snapshot") void tile?.snapshot();
    if (action === "sound") tile?.toggleSound();
  }

  #exposeStats(): void {
    const client = (): ViewerClient | undefined => this.#client;
    const settings = (): BrokerSettings => this.#settings;
    const tiles = this.#tiles;
    window.camgwDebug = {
      restartIce: (deviceId) => {
        const tile = tiles.get(deviceId);
        tile?.restartIce();
        return tile !== undefined;
      },
      control: (deviceId, request) => {
        const tile = tiles.get(deviceId);
        return tile ? tile.control(request) : Promise.reject(new Error(`no tile ${deviceId}`));
      },
    };
    window.camgwStats = {
      get viewerId() {
        return client()?.viewerId;
      },
      get broker() {
        return client()?.state ?? "none";
      },
      get brokerUrl() {
        return settings().url;
      },
      get tiles() {
        return Object.fromEntries([...tiles].map(([id, tile]) => [id, tile.snapshotFigures()]));
      },
    };
  }
}

new ViewerApp();
