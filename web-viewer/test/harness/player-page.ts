/**
 * Serves web-viewer/test/whep/whep-page.ts, bundled by esbuild with
 * whip-whep, from its own origin on 127.0.0.1 (another port than the
 * gateway's), so the players in it reach the gateway cross-origin, as a
 * player hosted elsewhere would.
 */
import { build } from "esbuild";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "../../../gateway/src/testing/gateway-process.js";

export interface PlayerPage {
  /** The page's URL; its origin is what the gateway must allow. */
  url: string;
  origin: string;
  close(): Promise<void>;
}

const HTML = `<!doctype html><meta charset="utf-8"><title>WHEP test player</title>
<script src="/whep-page.js"></script>`;

export async function startPlayerPage(): Promise<PlayerPage> {
  const bundle = await build({
    entryPoints: [join(REPO_ROOT, "web-viewer", "test", "whep", "whep-page.ts")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: ["es2022"],
    logLevel: "warning",
  });
  const js = bundle.outputFiles[0]?.text ?? "";
  const server: Server = createServer((req, res) => {
    if (req.url === "/whep-page.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(js);
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(HTML);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
