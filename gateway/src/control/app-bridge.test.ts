import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppBridge, AppBridgeError, MAX_LINE } from "./app-bridge.js";

/** A program on the app socket: a real Unix socket client reading NDJSON. */
class Program {
  readonly lines: Record<string, unknown>[] = [];
  private buffered = "";
  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffered += chunk;
      let i;
      while ((i = this.buffered.indexOf("\n")) >= 0) {
        this.lines.push(JSON.parse(this.buffered.slice(0, i)) as Record<string, unknown>);
        this.buffered = this.buffered.slice(i + 1);
      }
    });
  }

  static async connect(path: string): Promise<Program> {
    const socket = createConnection(path);
    await once(socket, "connect");
    return new Program(socket);
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  async next(count = 1): Promise<Record<string, unknown>[]> {
    const until = Date.now() + 5000;
    while (this.lines.length < count) {
      if (Date.now() > until) throw new Error(`only ${this.lines.length} lines came`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.lines.splice(0, count);
  }
}

let dir: string;
let path: string;
let bridge: AppBridge | undefined;
const programs: Program[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "camgw-app-"));
  path = join(dir, "app.sock");
});

afterEach(async () => {
  for (const p of programs.splice(0)) p.socket.destroy();
  await bridge?.close();
  bridge = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function program(): Promise<Program> {
  const p = await Program.connect(path);
  programs.push(p);
  await waitUntil(() => (bridge?.connected ?? 0) >= programs.length);
  return p;
}

async function waitUntil(check: () => boolean): Promise<void> {
  const until = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("the app socket", () => {
  it("is a socket only its owner may use, and is removed on close", async () => {
    bridge = await AppBridge.listen(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await bridge.close();
    bridge = undefined;
    await expect(stat(path)).rejects.toThrow();
  });

  it("tells every program who joins, what they send and when they leave", async () => {
    bridge = await AppBridge.listen(path);
    const a = await program();
    const b = await program();
    bridge.viewerJoined("v1", "s1");
    bridge.fromViewer("v1", "s1", { pan: 5 });
    bridge.viewerLeft("v1", "s1");
    for (const p of [a, b]) {
      expect(await p.next(3)).toEqual([
        { type: "join", viewer: "v1", session: "s1" },
        { type: "app", viewer: "v1", session: "s1", data: { pan: 5 } },
        { type: "leave", viewer: "v1", session: "s1" },
      ]);
    }
  });

  it("hands a program's messages over, for one session or all, and answers bad lines with an error", async () => {
    bridge = await AppBridge.listen(path);
    const got: unknown[] = [];
    bridge.on("message", (message, delivered) => {
      got.push(message);
      delivered(message.viewer === "nobody" ? 0 : 1);
    });
    const p = await program();
    p.send('{"type":"app","data":{"light":"on"}}');
    p.send('{"type":"app","viewer":"v1","session":"s1","data":[1,2]}');
    await waitUntil(() => got.length === 2);
    expect(got).toEqual([{ data: { light: "on" } }, { viewer: "v1", session: "s1", data: [1, 2] }]);
    p.send("not json");
    p.send('{"type":"reboot"}');
    p.send('{"type":"app","session":"s1","data":1}');
    p.send('{"type":"app","viewer":"nobody","data":1}');
    p.send(JSON.stringify({ type: "app", data: "x".repeat(MAX_LINE) }));
    const errors = await p.next(5);
    expect(errors.map((e) => e.type)).toEqual(["error", "error", "error", "error", "error"]);
    expect(errors.map((e) => e.message)).toEqual([
      "not JSON",
      'unknown type "reboot" (only "app")',
      "session needs viewer",
      "no permitted viewer (session nobody/*) has its control channel open; dropped",
      expect.stringMatching(/at most \d+ bytes/),
    ]);
    // Still served after all that.
    p.send('{"type":"app","data":2}');
    await waitUntil(() => got.length === 4);
  });

  it("replaces a stale socket file but refuses a live socket or a file that is not one", async () => {
    const other = createServer();
    await new Promise<void>((r) => other.listen(path, () => r()));
    const live = await AppBridge.listen(path).catch((e: unknown) => e);
    expect(live).toBeInstanceOf(AppBridgeError);
    expect(String(live)).toMatch(/in use by another process/);
    await new Promise<void>((r) => other.close(() => r()));

    // A program killed with SIGKILL leaves its socket file behind, with nobody listening.
    const stalePath = join(dir, "crashed.sock");
    const child = spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(stalePath)}, () => console.log("up"))`,
    ]);
    await once(child.stdout, "data");
    child.kill("SIGKILL");
    await once(child, "exit");
    expect((await stat(stalePath)).isSocket()).toBe(true);
    bridge = await AppBridge.listen(stalePath);
    expect(bridge.path).toBe(stalePath);

    const plain = join(dir, "plain");
    await writeFile(plain, "keep me");
    await expect(AppBridge.listen(plain)).rejects.toThrow(/not a socket/);
  });
});
