import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../auth/account-store.js";
import { parsePairing } from "../auth/pairing-link.js";
import { assertBuilt, CAMGW_BIN } from "../testing/gateway-process.js";
import { qrText } from "./pairing-output.js";

const execFileAsync = promisify(execFile);

/** `camgw ARGS` as a person runs it: exit code, stdout, stderr. */
async function camgw(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CAMGW_BIN, ...args]);
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

/**
 * `camgw viewer add|list|remove` (issue 10, "Identities and credentials"),
 * the compiled CLI on a fresh state directory, with no gateway running: what
 * it prints once (links, the QR code, the certificate's fingerprint), the
 * `--json` a script reads, and the modes of what it keeps.
 */
describe("camgw viewer", () => {
  let root: string;
  let stateDir: string;
  const state = (): string[] => ["--state-dir", stateDir];

  beforeAll(async () => {
    assertBuilt();
    root = await mkdtemp(join(tmpdir(), "camgw-viewer-cmd-"));
    // Not there yet: the command makes it, as the gateway's first start would.
    stateDir = join(root, "state");
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("adds a viewer and prints its links, the LAN one as a QR code, and the certificate's fingerprint", async () => {
    const r = await camgw("viewer", "add", "phone", ...state());
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`viewer "phone" added (in ${stateDir})`);
    const local = /On this computer, open: +(\S+)/.exec(r.out)?.[1] ?? "";
    expect(local).toMatch(/^http:\/\/127\.0\.0\.1:8080\/#pair=phone\./);
    const lan = /network, open or scan:\n +(\S+)/.exec(r.out)?.[1] ?? "";
    expect(lan).toMatch(/^https:\/\/\S+:8443\/#pair=phone\./);
    expect(parsePairing(lan)).toEqual(parsePairing(local));
    // The QR code of the LAN link, in the terminal's half blocks.
    const qr = qrText(lan).trimEnd().split("\n");
    expect(qr.length).toBeGreaterThan(10);
    for (const row of qr) expect(r.out).toContain(`    ${row}`);
    // The fingerprint of the certificate the HTTPS page will serve (made now).
    const cert = new X509Certificate(readFileSync(join(stateDir, "tls-cert.pem")));
    expect(r.out).toContain(`    ${cert.fingerprint256}\n`);
    expect(r.out).toMatch(/browser warns once/);
    // The login works: the printed password and token are the account's.
    const credentials = parsePairing(local);
    const store = await AccountStore.open(stateDir);
    expect(await store.verifyPassword("phone", credentials?.password ?? "")).toBe(true);
    expect(await store.verifyToken(credentials?.token ?? "")).toBe("phone");
    expect(r.out).toContain(`password ${credentials?.password ?? "-"}`);
  });

  it("keeps the state directory 0700 and every file in it 0600, and only hashes of the viewers' secrets", () => {
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    for (const file of ["viewers.json", "tls-cert.pem", "tls-key.pem"]) {
      expect(statSync(join(stateDir, file)).mode & 0o777, file).toBe(0o600);
    }
    const accounts = readFileSync(join(stateDir, "viewers.json"), "utf8");
    expect(accounts).toMatch(/"password": "\$7\$10000\$/);
  });

  it("prints one JSON object with --json: name, username, password, token, url", async () => {
    const r = await camgw("viewer", "add", "tablet", "--json", ...state());
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0] ?? "") as Record<string, string>;
    expect(Object.keys(json).sort()).toEqual(
      ["fingerprint", "localUrl", "name", "password", "token", "url", "username"].sort(),
    );
    expect(json).toMatchObject({ name: "tablet", username: "tablet" });
    expect(json.token).toMatch(/^tablet\./);
    expect(parsePairing(json.url ?? "")).toEqual({
      username: "tablet",
      password: json.password,
      token: json.token,
    });
    const cert = new X509Certificate(readFileSync(join(stateDir, "tls-cert.pem")));
    expect(json.fingerprint).toBe(cert.fingerprint256);
  });

  it("lists the viewers by name, as text and as JSON, and never their secrets", async () => {
    const text = await camgw("viewer", "list", ...state());
    expect(text.code).toBe(0);
    expect(text.out.split("\n").map((l) => l.split(" ")[0])).toEqual(["phone", "tablet", ""]);
    const json = await camgw("viewer", "list", "--json", ...state());
    const { viewers } = JSON.parse(json.out) as { viewers: { name: string; created: string }[] };
    expect(viewers.map((v) => v.name)).toEqual(["phone", "tablet"]);
    expect(Object.keys(viewers[0] ?? {}).sort()).toEqual(["created", "name"]);
  });

  it("removes a viewer, and says so when there is none by that name", async () => {
    const r = await camgw("viewer", "remove", "tablet", ...state());
    expect(r.code).toBe(0);
    expect(r.out).toContain('viewer "tablet" removed');
    expect((await AccountStore.open(stateDir)).list().map((v) => v.name)).toEqual(["phone"]);
    const again = await camgw("viewer", "remove", "tablet", ...state());
    expect(again.code).toBe(1);
    expect(again.err).toContain('no viewer named "tablet"');
  });

  it("refuses a name taken, a name that is no name, and a missing one, clearly", async () => {
    const taken = await camgw("viewer", "add", "phone", ...state());
    expect(taken.code).toBe(1);
    expect(taken.err).toMatch(/viewer "phone" exists already: remove it first, or .*--replace/);
    const bad = await camgw("viewer", "add", "../x", ...state());
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/"..\/x" is not a valid viewer name/);
    const reserved = await camgw("viewer", "add", "camgw-device-x", ...state());
    expect(reserved.err).toMatch(/reserved for devices/);
    const none = await camgw("viewer", "add", ...state());
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/needs a NAME/);
  });

  // `sudo camgw viewer add` on a board: systemd made /var/lib/camgw the
  // service user's (StateDirectory=), and what root writes there must stay
  // readable to the gateway. Only root can give a file away (chown(2)).
  it.skipIf(process.getuid?.() !== 0)(
    "run by root, hands every file it writes to the owner of the state directory",
    async () => {
      const service = join(root, "service");
      await mkdir(service, { mode: 0o700 });
      // nobody:nogroup (Debian's 65534) stands in for the camgw user.
      await chown(service, 65534, 65534);
      const r = await camgw("viewer", "add", "kitchen", "--state-dir", service);
      expect(r.code, r.err).toBe(0);
      const files = readdirSync(service);
      expect(files).toEqual(
        expect.arrayContaining(["viewers.json", "tls-cert.pem", "tls-key.pem"]),
      );
      for (const file of files) {
        const info = statSync(join(service, file));
        expect([info.uid, info.gid, info.mode & 0o777], file).toEqual([65534, 65534, 0o600]);
      }
      expect(statSync(service).uid).toBe(65534);
    },
  );

  it("takes the state directory and ports from the same --config file as camgw run", async () => {
    const other = join(root, "from-config");
    const config = join(root, "camgw.yaml");
    await writeFile(config, `state-dir: ${other}\nhttps-port: 9443\nhttp-port: 9080\n`);
    const r = await camgw("viewer", "add", "door", "--json", "--config", config);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { url: string; localUrl: string };
    expect(json.url).toMatch(/:9443\/#pair=door\./);
    expect(json.localUrl).toMatch(/^http:\/\/127\.0\.0\.1:9080\/#pair=door\./);
    expect((await AccountStore.open(other)).list().map((v) => v.name)).toEqual(["door"]);
  });
});
