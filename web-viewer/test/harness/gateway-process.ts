/**
 * A restartable handle on the real gateway (`camgw run --source sim`) for
 * browser tests: restarts keep the HTTP port and the state directory, so an
 * open page's default broker (ws://<page host>/mqtt) comes back at the same
 * address and its stored login still works. Pages log in the way a person
 * does: through the pairing link the gateway printed on its first start.
 */
import type { SimOptions } from "../../../firmware-sim/src/sim-env.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  pairingFragment,
  type PairingCredentials,
} from "../../../gateway/src/auth/pairing-link.js";
import {
  startGateway,
  type GatewayProcess as Running,
} from "../../../gateway/src/testing/gateway-process.js";

export interface GatewayOptions {
  deviceId: string;
  /** Extra `camgw run` flags (e.g. --max-viewers 1, --broker mqtt://...). */
  args?: string[];
  /** The virtual board's options (e.g. a fault control file); default: a plain pi4. */
  sim?: SimOptions;
}

export class GatewayProcess {
  readonly options: GatewayOptions;
  #running: Running | undefined;
  #lastOutput = "";
  #stateDir = "";
  #owner: PairingCredentials | undefined;
  httpUrl = "";

  constructor(options: GatewayOptions) {
    this.options = options;
  }

  static async start(options: GatewayOptions): Promise<GatewayProcess> {
    const gateway = new GatewayProcess(options);
    await gateway.start();
    return gateway;
  }

  /** The viewer's first account, made on the first start. */
  get owner(): PairingCredentials {
    if (!this.#owner) throw new Error("gateway not started");
    return this.#owner;
  }

  /**
   * The page with `query` (e.g. "?device=cam1"), logged in through the
   * pairing link's fragment as a person who opened it would be.
   */
  viewerUrl(query = "", who: PairingCredentials = this.owner): string {
    return `${this.httpUrl}${query}#${pairingFragment(who)}`;
  }

  /** Another viewer account (`camgw viewer add NAME`). */
  async addViewer(name: string): Promise<PairingCredentials> {
    if (!this.#running) throw new Error("gateway not running");
    return this.#running.addViewer(name);
  }

  /** `camgw viewer remove NAME`: the running gateway shuts that viewer out. */
  async removeViewer(name: string): Promise<void> {
    if (!this.#running) throw new Error("gateway not running");
    await this.#running.removeViewer(name);
  }

  /** Where its accounts live (for `camgw broker-config --state-dir`). */
  get stateDir(): string {
    return this.#stateDir;
  }

  /** The HTTPS page (its own self-signed certificate). */
  get httpsUrl(): string {
    if (!this.#running) throw new Error("gateway not running");
    return this.#running.httpsUrl;
  }

  /** The page's default broker when it is served by this gateway. */
  get wsUrl(): string {
    return `${this.httpUrl.replace(/^http/, "ws")}mqtt`;
  }

  /** Everything the gateway printed, for failure messages. */
  get output(): string {
    return this.#running?.output() ?? this.#lastOutput;
  }

  async start(): Promise<void> {
    if (this.#running) throw new Error("gateway already running");
    const port = this.httpUrl === "" ? 0 : Number(new URL(this.httpUrl).port);
    const id = this.options.deviceId;
    if (!this.#stateDir) this.#stateDir = await mkdtemp(join(tmpdir(), "camgw-viewer-state-"));
    this.#running = await startGateway({
      ...(this.options.sim ? { sim: this.options.sim } : {}),
      stateDir: this.#stateDir,
      ...(this.#owner ? { owner: this.#owner } : {}),
      args: [
        "--device-id",
        id,
        "--name",
        `Sim ${id}`,
        "--http-port",
        String(port),
        ...(this.options.args ?? []),
      ],
    });
    this.httpUrl = this.#running.httpUrl;
    this.#owner = this.#running.owner;
  }

  /**
   * SIGTERM (clean shutdown: bye + offline status), SIGKILL after 10 s. The
   * state directory stays for a later start() (the same viewers log in
   * again); close() removes it.
   */
  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    await running.stop();
    this.#lastOutput = running.output();
  }

  /** stop(), then remove the state directory (it holds the viewers' secrets): the end of a test. */
  async close(): Promise<void> {
    await this.stop();
    if (this.#stateDir) await rm(this.#stateDir, { recursive: true, force: true });
    this.#stateDir = "";
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
