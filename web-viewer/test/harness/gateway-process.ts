/**
 * A restartable handle on the real gateway (`camgw run --source sim`) for
 * browser tests: restarts keep the HTTP port, so an open page's default
 * broker (ws://<page host>/mqtt) comes back at the same address.
 */
import type { SimOptions } from "../../../firmware-sim/src/sim-env.js";
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
  httpUrl = "";

  constructor(options: GatewayOptions) {
    this.options = options;
  }

  static async start(options: GatewayOptions): Promise<GatewayProcess> {
    const gateway = new GatewayProcess(options);
    await gateway.start();
    return gateway;
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
    this.#running = await startGateway({
      ...(this.options.sim ? { sim: this.options.sim } : {}),
      args: [
        "--device-id",
        id,
        "--name",
        `Sim ${id}`,
        "--http-port",
        String(port),
        ...(this.options.args ?? []),
      ],
      ...(this.options.sim ? { sim: this.options.sim } : {}),
    });
    this.httpUrl = this.#running.httpUrl;
  }

  /** SIGTERM (clean shutdown: bye + offline status), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    await running.stop();
    this.#lastOutput = running.output();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
