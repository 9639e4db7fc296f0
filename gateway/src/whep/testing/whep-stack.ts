import { HttpServer } from "../../http/http-server.js";
import { MetricsRegistry } from "../../http/metrics.js";
import { SignalingDispatcher } from "../../signaling/dispatcher.js";
import { ClipSource } from "../../webrtc/testing/clip-source.js";
import { LOOPBACK } from "../../webrtc/testing/harness.js";
import { SessionManager, type SessionManagerOptions } from "../../webrtc/session-manager.js";
import type { ClipAccessUnit } from "../../testing/test-clip.js";
import { sharedTokenAuthorizer } from "../whep-auth.js";
import { WhepEndpoint, type WhepEndpointOptions } from "../whep-endpoint.js";

/**
 * The gateway's WHEP path in one process, as app.ts wires it: a clip
 * source, the session manager, the signaling dispatcher, the HTTP server
 * with the WHEP endpoint on its route hook. Real sockets on 127.0.0.1.
 */
export interface WhepStack {
  url: string;
  manager: SessionManager;
  dispatcher: SignalingDispatcher;
  endpoint: WhepEndpoint;
  source: ClipSource;
  close(): Promise<void>;
}

export const TOKEN = "test-token-0123456789";

export async function startWhepStack(
  clip: readonly ClipAccessUnit[],
  options: {
    manager?: Partial<SessionManagerOptions>;
    endpoint?: Partial<WhepEndpointOptions>;
  } = {},
): Promise<WhepStack> {
  const source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  const manager = new SessionManager({
    streams: { main: source },
    ice: LOOPBACK,
    ...options.manager,
  });
  const dispatcher = new SignalingDispatcher({ host: manager });
  const endpoint = new WhepEndpoint({
    sink: dispatcher,
    authorizer: sharedTokenAuthorizer(TOKEN),
    hasStream: (stream) => stream === "main",
    iceServers: () => [],
    gatherTimeoutMs: 3000,
    ...options.endpoint,
  });
  const http = new HttpServer({
    listeners: [{ host: "127.0.0.1", port: 0 }],
    viewerRoot: null,
    health: () => [],
    metrics: new MetricsRegistry(),
  });
  http.addRoute(endpoint.handle);
  const [address] = await http.listen();
  const port = address?.port ?? 0;
  return {
    url: `http://127.0.0.1:${port}`,
    manager,
    dispatcher,
    endpoint,
    source,
    close: async () => {
      endpoint.close();
      await manager.close();
      dispatcher.close();
      await http.close();
      await source.close();
    },
  };
}
