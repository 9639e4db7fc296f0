import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { LOOPBACK_ONLY, type HttpAccess } from "./access.js";
import { HttpServer, type HealthPart } from "./http-server.js";
import { MetricsRegistry } from "./metrics.js";

/** A raw request, so paths like /../x reach the server unnormalised. */
function get(
  port: number,
  path: string,
  method = "GET",
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("http server", () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  async function start(
    health: HealthPart[],
    viewerRoot: string | null = null,
    access: HttpAccess = LOOPBACK_ONLY,
  ) {
    const metrics = new MetricsRegistry();
    metrics.register(() => [
      { name: "camgw_viewers", help: "Live viewer sessions", type: "gauge", value: 2 },
      {
        name: "camgw_frames_total",
        help: "Frames",
        type: "counter",
        value: 10,
        labels: { source: 'pipe:"x"' },
      },
    ]);
    server = new HttpServer({
      listeners: [{ host: "127.0.0.1", port: 0 }],
      viewerRoot,
      health: () => health,
      metrics,
      access,
    });
    return (await server.listen())[0]?.port ?? 0;
  }

  it("answers /healthz 200 when every part is up", async () => {
    const port = await start([
      { name: "source", ok: true },
      { name: "signaling", ok: true },
    ]);
    const res = await get(port, "/healthz");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: "ok", down: [] });
  });

  it("answers /healthz 503 naming the part that is down", async () => {
    const port = await start([
      { name: "source", ok: true },
      { name: "signaling", ok: false, detail: "broker unreachable" },
    ]);
    const res = await get(port, "/healthz");
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({
      status: "down",
      down: ["signaling"],
      parts: { signaling: { ok: false, detail: "broker unreachable" } },
    });
  });

  it("serves Prometheus text with escaped labels at /metrics", async () => {
    const port = await start([]);
    const res = await get(port, "/metrics");
    expect(res.type).toContain("text/plain");
    expect(res.body).toContain("# TYPE camgw_viewers gauge\ncamgw_viewers 2\n");
    expect(res.body).toContain('camgw_frames_total{source="pipe:\\"x\\""} 10');
  });

  it("serves the viewer's files and nothing outside their folder", async () => {
    // The served folder and a file beside it, both in one temporary folder.
    const outer = mkdtempSync(join(tmpdir(), "camgw-viewer-"));
    onTestFinished(() => rmSync(outer, { recursive: true, force: true }));
    const root = join(outer, "viewer");
    mkdirSync(join(root, "assets"), { recursive: true });
    writeFileSync(join(root, "index.html"), "<!doctype html><title>camgw</title>");
    writeFileSync(join(root, "assets", "app.js"), "console.log(1)");
    writeFileSync(join(root, "..", "secret.txt"), "no");
    const port = await start([], root);
    const index = await get(port, "/?device=porch");
    expect(index.status).toBe(200);
    expect(index.type).toBe("text/html; charset=utf-8");
    expect(index.body).toContain("<title>camgw</title>");
    expect((await get(port, "/assets/app.js")).type).toContain("text/javascript");
    expect((await get(port, "/assets/app.js", "HEAD")).body).toBe("");
    for (const path of [
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/%ff",
    ]) {
      expect((await get(port, path)).status).toBe(404);
    }
    expect((await get(port, "/assets")).status).toBe(404);
  });

  it("explains how to build the viewer when it is missing", async () => {
    const port = await start([], null);
    const res = await get(port, "/");
    expect(res.status).toBe(503);
    expect(res.body).toContain("make build");
  });

  it("can be closed twice", async () => {
    await start([]);
    await server?.close();
    await server?.close();
  });
});
