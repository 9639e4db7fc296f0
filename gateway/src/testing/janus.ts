/**
 * A real WHIP server for tests, nobody here wrote: Meetecho's
 * simple-whip-server (Debian's `simple-whip-server` 0.0~git20230201, its
 * JavaScript as the .deb ships it) in front of Debian's Janus 1.1.2 and its
 * VideoRoom plugin. Janus has no WHIP of its own; simple-whip-server turns a
 * WHIP POST into a VideoRoom publisher.
 *
 * Debian's package depends on Debian's nodejs, which conflicts with this
 * machine's Node 20, so it is not installed: `apt-get download` fetches the
 * .deb once into build/cache/, its two source files run on our Node, and
 * their npm dependencies are devDependencies pinned to the versions Debian
 * 12 packages (express 4.18.2, cors 2.8.5, colors 1.4.0, debug 4.3.4,
 * websocket 1.0.34; async 3.2.4 as Debian's node-async is older than the
 * code needs). Everything listens on 127.0.0.1; Janus gathers ICE
 * candidates on 127.0.0.1 only.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./gateway-process.js";
import { freePort } from "./ports.js";

const run = promisify(execFile);

export const JANUS = "/usr/bin/janus";
const JANUS_LIB = "/usr/lib/x86_64-linux-gnu/janus";
/** The VideoRoom room the WHIP endpoint publishes into. */
export const ROOM = 1234;

/** The simple-whip-server sources (server.js, whip-janus.js), from Debian's .deb. */
export async function simpleWhipServerSources(): Promise<string> {
  const cache = join(REPO_ROOT, "build", "cache", "simple-whip-server");
  const src = join(cache, "usr", "share", "simple-whip-server", "src");
  if (existsSync(join(src, "server.js"))) return src;
  await mkdir(cache, { recursive: true });
  // apt-get download runs as the sandbox user _apt where it can; in a folder
  // it cannot write to, it downloads as root and says so on stderr.
  await run("apt-get", ["download", "simple-whip-server"], { cwd: cache });
  const debs = (await readdir(cache)).filter((f) => f.endsWith(".deb"));
  const deb = debs[0];
  if (!deb) throw new Error("apt-get download simple-whip-server gave no .deb");
  await run("dpkg-deb", ["-x", join(cache, deb), cache]);
  return src;
}

interface Running {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

function startProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number },
): Promise<Running> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(
        new Error(`${command} did not start within ${options.timeoutMs ?? 20_000} ms:\n${out}`),
      );
    }, options.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (options.ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out, stop });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${command} exited before it started:\n${out}`));
    });
  });
}

export interface JanusWhip {
  /** The WHIP endpoint URL (simple-whip-server's /whip/endpoint/<id>). */
  whipUrl: string;
  /** The bearer token the endpoint requires. */
  token: string;
  /** Janus's REST API (for a viewer joining the room as a subscriber). */
  janusUrl: string;
  /** Stops and starts both servers on the same ports (a media server restart). */
  restart(): Promise<void>;
  /** Everything both printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts Janus (VideoRoom, HTTP and WebSocket transports) and simple-whip-server in front of it. */
export async function startJanusWhip(options: { token?: string } = {}): Promise<JanusWhip> {
  const sources = await simpleWhipServerSources();
  const dir = await mkdtemp(join(tmpdir(), "camgw-janus-"));
  const conf = join(dir, "conf");
  const plugins = join(dir, "plugins");
  const transports = join(dir, "transports");
  const whipDir = join(dir, "whip");
  await Promise.all([conf, plugins, transports, whipDir].map((d) => mkdir(d)));
  // Only what the test uses is loaded: the VideoRoom plugin, HTTP and WebSocket transports.
  await symlink(
    join(JANUS_LIB, "plugins", "libjanus_videoroom.so"),
    join(plugins, "libjanus_videoroom.so"),
  );
  for (const t of ["libjanus_http.so", "libjanus_websockets.so"]) {
    await symlink(join(JANUS_LIB, "transports", t), join(transports, t));
  }
  const [httpPort, wsPort, whipPort] = [await freePort(), await freePort(), await freePort()];
  // A random RTP range, so parallel runs on one machine do not collide.
  const rtpBase = 20_000 + Math.floor(Math.random() * 400) * 100;
  await writeFile(
    join(conf, "janus.jcfg"),
    `general: {
  configs_folder = "${conf}"
  plugins_folder = "${plugins}"
  transports_folder = "${transports}"
  events_folder = "${join(dir, "none")}"
  loggers_folder = "${join(dir, "none")}"
  debug_level = 4
  server_name = "camgw-test"
}
certificates: {
}
media: {
  rtp_port_range = "${rtpBase}-${rtpBase + 99}"
}
nat: {
  ice_enforce_list = "127.0.0.1"
}
plugins: {
}
transports: {
}
events: {
}
`,
  );
  await writeFile(
    join(conf, "janus.transport.http.jcfg"),
    `general: {
  json = "indented"
  base_path = "/janus"
  http = true
  port = ${httpPort}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
cors: {
  allow_origin = "*"
}
`,
  );
  await writeFile(
    join(conf, "janus.transport.websockets.jcfg"),
    `general: {
  json = "indented"
  ws = true
  ws_port = ${wsPort}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`,
  );
  await writeFile(
    join(conf, "janus.plugin.videoroom.jcfg"),
    `general: {
}
room-${ROOM}: {
  description = "camgw WHIP test"
  publishers = 4
  bitrate = 0
  fir_freq = 10
  videocodec = "h264"
  audiocodec = "opus"
}
`,
  );
  // simple-whip-server requires ./config.js beside itself: copy both sources next to ours.
  for (const f of ["server.js", "whip-janus.js"])
    await copyFile(join(sources, f), join(whipDir, f));
  await writeFile(
    join(whipDir, "config.js"),
    `module.exports = {
  janus: { address: "ws://127.0.0.1:${wsPort}" },
  port: ${whipPort},
  rest: "/whip",
  allowTrickle: true,
  strictETags: false,
  iceServers: [],
};
`,
  );
  const token = options.token ?? "whip-test-token";
  let janus: Running | undefined;
  let whip: Running | undefined;
  let log = "";

  const up = async (): Promise<void> => {
    janus = await startProcess(JANUS, ["-F", conf, "-C", join(conf, "janus.jcfg"), "-o"], {
      ready:
        /HTTP webserver started[\s\S]*Websockets server started|Websockets server started[\s\S]*HTTP webserver started/,
    });
    whip = await startProcess(process.execPath, [join(whipDir, "server.js")], {
      cwd: whipDir,
      // The sources sit outside the repo: resolve their npm dependencies from ours.
      env: { NODE_PATH: join(REPO_ROOT, "node_modules"), DEBUG: "whip:*" },
      ready: /WHIP server prototype started/,
    });
    // simple-whip-server's own (non-WHIP) API: an endpoint publishing into the room.
    const res = await fetch(`http://127.0.0.1:${whipPort}/whip/create`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: "camgw", room: ROOM, token }),
    });
    if (!res.ok) throw new Error(`simple-whip-server /create answered ${res.status}`);
  };
  const down = async (): Promise<void> => {
    log += (whip?.output() ?? "") + (janus?.output() ?? "");
    await whip?.stop();
    await janus?.stop();
    whip = undefined;
    janus = undefined;
  };

  try {
    await up();
  } catch (error) {
    await down();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    whipUrl: `http://127.0.0.1:${whipPort}/whip/endpoint/camgw`,
    token,
    janusUrl: `http://127.0.0.1:${httpPort}/janus`,
    restart: async () => {
      await down();
      await up();
    },
    output: () => log + (whip?.output() ?? "") + (janus?.output() ?? ""),
    stop: async () => {
      await down();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
