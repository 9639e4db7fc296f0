// Builds the viewer into web-viewer/dist: index.html and app.css copied from
// static/, app.js bundled by esbuild from src/app.ts (MQTT.js included).
// Deterministic: same sources, same bytes (no timestamps, no absolute paths).
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ["src/app.ts"],
  outfile: "dist/app.js",
  bundle: true,
  format: "esm",
  platform: "browser",
  // Chrome/Edge 94+, Firefox 132+, Safari 15.4+: requestVideoFrameCallback is the floor.
  target: ["es2022"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
await Promise.all(
  ["index.html", "app.css"].map((f) => copyFile(join(root, "static", f), join(dist, f))),
);
console.log("viewer: built web-viewer/dist (index.html, app.js, app.css)");
