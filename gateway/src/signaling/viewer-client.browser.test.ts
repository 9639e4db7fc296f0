/**
 * The isomorphic viewer client in a real browser: bundled by esbuild for the
 * browser (MQTT.js's browser build, native WebSocket), run in Debian's
 * Chromium through playwright-core, calling a device over the embedded
 * broker's WebSocket listener.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedBroker } from "./broker.js";
import { FIXED_ANSWER, FixedAnswerHost, GOOD_OFFER } from "./testing/fixed-answer-host.js";
import { MqttDevice } from "./testing/mqtt-device.js";

const CHROMIUM = "/usr/bin/chromium";

describe.skipIf(!existsSync(CHROMIUM))("ViewerClient in Chromium", () => {
  let broker: EmbeddedBroker;
  let device: MqttDevice;
  let browser: Browser;
  let bundle: string;
  const host = new FixedAnswerHost();

  beforeAll(async () => {
    broker = await EmbeddedBroker.start({ host: "127.0.0.1", port: 0, wsPort: 0 });
    device = await new MqttDevice({
      url: `mqtt://127.0.0.1:${broker.port}`,
      status: { name: "Porch", version: "0.1.0", streams: [] },
      host,
    }).start();
    const result = await build({
      stdin: {
        contents: `import { ViewerClient } from ${JSON.stringify(fileURLToPath(new URL("./viewer-client.ts", import.meta.url)))};
          globalThis.ViewerClient = ViewerClient;`,
        resolveDir: fileURLToPath(new URL(".", import.meta.url)),
        loader: "ts",
      },
      bundle: true,
      platform: "browser",
      format: "iife",
      write: false,
      logLevel: "error",
    });
    bundle = result.outputFiles[0]?.text ?? "";
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox"],
    });
  });

  afterAll(async () => {
    await browser.close();
    await device.close();
    await broker.close();
  });

  it("lists the device and gets an answer and candidates over WebSocket", async () => {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><title>viewer-client</title>");
    await page.addScriptTag({ content: bundle });
    const url = `ws://127.0.0.1:${broker.wsPort}/mqtt`;
    const result = await page.evaluate(
      async ({ url, offer }) => {
        interface Call {
          answer: Promise<string>;
          session: string;
          on(event: "candidate", listener: (c: unknown) => void): void;
          hangup(): void;
        }
        interface Client {
          viewerId: string;
          devices: Map<string, { name?: string; online: boolean }>;
          waitConnected(): Promise<void>;
          on(event: "device", listener: (d: { deviceId: string }) => void): void;
          call(deviceId: string, offer: { sdp: string }): Call;
          close(): Promise<void>;
        }
        const Ctor = (globalThis as unknown as { ViewerClient: new (o: { url: string }) => Client })
          .ViewerClient;
        const client = new Ctor({ url });
        await client.waitConnected();
        await new Promise<void>((resolve) => {
          if (client.devices.has("porch")) resolve();
          else client.on("device", (d) => d.deviceId === "porch" && resolve());
        });
        const call = client.call("porch", { sdp: offer });
        const candidates: unknown[] = [];
        const done = new Promise<void>((resolve) =>
          call.on("candidate", (c) => {
            candidates.push(c);
            if (c === null) resolve();
          }),
        );
        const answer = await call.answer;
        await done;
        const device = client.devices.get("porch");
        call.hangup();
        await client.close();
        return { answer, candidates, device, viewerId: client.viewerId };
      },
      { url, offer: GOOD_OFFER },
    );
    await page.close();
    expect(result.answer).toBe(FIXED_ANSWER);
    expect(result.candidates).toEqual([host.localCandidates[0], null]);
    expect(result.device).toMatchObject({ name: "Porch", online: true });
    expect(result.viewerId).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
