import type { Config } from "./config.js";
import { AppBridge, AppBridgeError } from "./control/app-bridge.js";
import { ControlHub } from "./control/control-hub.js";
import { SourceControl } from "./control/source-control.js";
import { ConfigError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { H264Source } from "./media/source.js";
import { serveControl } from "./webrtc/data-channel.js";
import type { ControlChannelHandler } from "./webrtc/session-manager.js";

/**
 * The control channel as config sets it up (docs/control.md): the hub of
 * open channels, the limits on bitrate and size, and the app socket when
 * `app-socket` names one. No snapshot provider yet: `snapshot` answers
 * `unavailable` until the addon has a JPEG encoder.
 */
export interface Control {
  readonly hub: ControlHub;
  readonly bridge: AppBridge | undefined;
  /** For the session manager: serves each session's control DataChannel. */
  readonly handler: ControlChannelHandler;
  close(): Promise<void>;
}

export async function createControl(
  config: Config,
  source: H264Source,
  log: Logger,
): Promise<Control> {
  let bridge: AppBridge | undefined;
  const path = config["app-socket"];
  if (path) {
    try {
      bridge = await AppBridge.listen(path);
    } catch (err) {
      if (!(err instanceof AppBridgeError)) throw err;
      throw new ConfigError(`app-socket: ${err.message}`, { key: "app-socket", path });
    }
    bridge.on("program", (what) => log.info(`app socket: a program ${what}`));
    if (config["app-viewers"].length === 0) {
      log.warn("app-socket is set but app-viewers is empty: no viewer may use it");
    }
  }
  const hub = new ControlHub({
    stream: new SourceControl(source, config.bitrate),
    policy: {
      bitrate: config["control-bitrate"],
      sizes: config["control-sizes"],
      appViewers: config["app-viewers"],
    },
    app: bridge,
  });
  return {
    hub,
    bridge,
    handler: (channel, viewer, view) => serveControl(channel, viewer, view, hub),
    close: async () => {
      hub.close();
      await bridge?.close();
    },
  };
}
