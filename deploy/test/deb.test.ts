/**
 * The .deb that `make dist` writes: metadata, contents, architecture of
 * every binary, the systemd unit, the maintainer scripts and the default
 * config. Checked with Debian's own tools (dpkg-deb, systemd-analyze).
 */
import { cpSync, existsSync, openSync, readFileSync, readSync, closeSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../gateway/src/config.js";
import { ensureMade, extractDeb, findDeb, must, repoRoot, run, tempDir, walk } from "./helpers.js";

/** ELF e_machine for AArch64 (elf.h EM_AARCH64). */
const EM_AARCH64 = 183;

/** Reads an ELF header: undefined when the file is not ELF. */
function elfMachine(path: string): { is64: boolean; machine: number } | undefined {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(20);
    if (readSync(fd, head, 0, 20, 0) < 20) return undefined;
    if (head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    // e_ident[EI_CLASS] 2 = 64-bit; e_ident[EI_DATA] 1 = little-endian.
    const le = head[5] === 1;
    return { is64: head[4] === 2, machine: le ? head.readUInt16LE(18) : head.readUInt16BE(18) };
  } finally {
    closeSync(fd);
  }
}

describe("the arm64 package (make dist)", () => {
  let deb = "";
  let root = "";
  let listing = "";

  beforeAll(() => {
    ensureMade("dist");
    deb = findDeb();
    root = extractDeb(deb);
    listing = must("dpkg-deb", ["-c", deb]);
  }, 900_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("is named camgw, for arm64, at the gateway's version, depending on Debian's packages", () => {
    const field = (name: string): string => must("dpkg-deb", ["-f", deb, name]).trim();
    const pkg = JSON.parse(readFileSync(join(repoRoot, "gateway/package.json"), "utf8")) as {
      version: string;
    };
    expect(field("Package")).toBe("camgw");
    expect(field("Architecture")).toBe("arm64");
    expect(field("Version")).toBe(pkg.version);
    expect(deb.endsWith(`camgw_${pkg.version}_arm64.deb`)).toBe(true);
    const depends = field("Depends").split(/,\s*/);
    expect(depends).toContain("nodejs (>= 20.19)");
    expect(depends).toContain("libx264-164");
    expect(depends).toContain("libyuv0");
    expect(depends).toContain("libturbojpeg0");
    expect(depends).toContain("libasound2");
    expect(depends).toContain("libopus0");
    expect(depends).toContain("adduser");
    // dpkg-deb -I also validates the control file's syntax.
    expect(must("dpkg-deb", ["-I", deb])).toMatch(/Installed-Size: \d+/);
  });

  it("installs the gateway and virtual board under /opt/camgw, the camgw command and the service unit", () => {
    for (const path of [
      "./opt/camgw/package.json",
      "./opt/camgw/gateway/bin/camgw.js",
      "./opt/camgw/build/gateway/src/cli.js",
      "./opt/camgw/native/build/Release/camgw_native.node",
      "./opt/camgw/firmware-sim/bin/firmware-sim.js",
      "./opt/camgw/build/firmware-sim/src/cli.js",
      "./opt/camgw/firmware-sim/build/libcamgw-vdev.so",
      "./opt/camgw/web-viewer/dist/",
      "./etc/camgw/config.yaml",
      "./lib/systemd/system/camgw.service",
    ]) {
      expect(listing, path).toContain(` ${path}\n`);
    }
    expect(listing).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/bin\/camgw$/m);
    // --root-owner-group: nothing may carry the build user's ownership.
    for (const line of listing.trim().split("\n")) expect(line).toMatch(/^\S+ root\/root /);
  });

  it("bundles exactly the lockfile's production npm packages", () => {
    // package-lock.json flags each package needed only for development with
    // "dev": true, and an optional one that development pulls in with
    // "devOptional": true (ws's native speed-ups, which build-deb.sh leaves
    // out with --omit=optional: ws runs without them); everything else
    // (direct or transitive) must be shipped, at the locked version, and
    // nothing dev-only may be.
    const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<
        string,
        { version?: string; dev?: boolean; devOptional?: boolean; link?: boolean }
      >;
    };
    const rootPkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    let shipped = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!path.startsWith("node_modules/") || entry.link === true) continue;
      const manifest = join(root, "opt/camgw", path, "package.json");
      if (entry.dev === true || entry.devOptional === true) {
        expect(existsSync(manifest), `${path} is dev-only`).toBe(false);
      } else {
        const got = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
        expect(got.version, path).toBe(entry.version);
        shipped++;
      }
    }
    expect(shipped).toBeGreaterThanOrEqual(Object.keys(rootPkg.dependencies).length);
    expect(listing).not.toContain("./opt/camgw/node_modules/vitest/");
  });

  it("ships werift with the project's patches applied, as the tests ran it", () => {
    // build-deb.sh installs with --ignore-scripts, so the postinstall that
    // applies patches/ never runs there; it applies them itself.
    const bundle = "node_modules/werift/lib/index.mjs";
    const shipped = readFileSync(join(root, "opt/camgw", bundle));
    expect(shipped.equals(readFileSync(join(repoRoot, bundle)))).toBe(true);
  });

  it("contains only aarch64 ELF binaries", () => {
    const elves = walk(root)
      .map((rel) => ({ rel, elf: elfMachine(join(root, rel)) }))
      .filter((f) => f.elf !== undefined);
    expect(elves.map((f) => f.rel)).toEqual(
      expect.arrayContaining([
        "opt/camgw/native/build/Release/camgw_native.node",
        "opt/camgw/firmware-sim/build/libcamgw-vdev.so",
      ]),
    );
    for (const { rel, elf } of elves) {
      expect({ rel, ...elf }).toEqual({ rel, is64: true, machine: EM_AARCH64 });
    }
  });

  it("keeps /etc/camgw/config.yaml as a conffile, so upgrades keep local edits", () => {
    const control = tempDir("control");
    must("dpkg-deb", ["-e", deb, control]);
    expect(readFileSync(join(control, "conffiles"), "utf8").trim().split("\n")).toEqual([
      "/etc/camgw/config.yaml",
    ]);
    for (const script of ["postinst", "prerm", "postrm"]) {
      const r = run("sh", ["-n", join(control, script)]);
      expect(r.stderr, script).toBe("");
      expect(r.status, script).toBe(0);
    }
    expect(readFileSync(join(control, "postinst"), "utf8")).toMatch(/adduser camgw video/);
    expect(readFileSync(join(control, "postinst"), "utf8")).toMatch(/adduser camgw audio/);
    rmSync(control, { recursive: true, force: true });
  });

  it("ships a default config that the gateway's own loader accepts", () => {
    const config = loadConfig({ file: join(root, "etc/camgw/config.yaml") });
    expect(config.broker).toBe("embedded");
    expect(config["http-port"]).toBe(8080);
  });

  it("has a service unit that systemd-analyze verify accepts without a warning", () => {
    // Verify against a root made of the package's files plus systemd's own
    // units (the targets it is ordered against), as on a board: the check
    // then also proves ExecStart's /usr/bin/camgw exists and is executable.
    const verifyRoot = tempDir("verify");
    cpSync(root, verifyRoot, { recursive: true, verbatimSymlinks: true });
    cpSync("/lib/systemd/system", join(verifyRoot, "lib/systemd/system"), {
      recursive: true,
      force: false,
      verbatimSymlinks: true,
    });
    const r = run("systemd-analyze", ["verify", `--root=${verifyRoot}`, "camgw.service"]);
    rmSync(verifyRoot, { recursive: true, force: true });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const unit = readFileSync(join(root, "lib/systemd/system/camgw.service"), "utf8");
    for (const line of [
      "User=camgw",
      "SupplementaryGroups=video audio",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "Restart=on-failure",
      "DeviceAllow=char-video4linux rw",
      "DeviceAllow=char-alsa rw",
      "Type=notify",
      "WatchdogSec=30s",
      "StateDirectoryMode=0700",
    ]) {
      expect(unit.split("\n"), line).toContain(line);
    }
  });

  it("has a service unit that systemd-analyze security rates OK, with nothing left open that the gateway does not need", () => {
    const r = run("systemd-analyze", [
      "security",
      "--offline=yes",
      `--root=${root}`,
      "--no-pager",
      "camgw.service",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const exposure = /Overall exposure level for camgw\.service: (\d+\.\d+) (\w+)/.exec(r.stdout);
    expect(exposure, r.stdout).not.toBeNull();
    expect(Number(exposure?.[1])).toBeLessThanOrEqual(2);
    // What the gateway keeps on purpose (network, devices, the JIT's W+X
    // pages, groups video/audio); anything else flagged is a regression.
    const flagged = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("\u2717"))
      .map((l) => l.slice(1).trim().split(/\s+/)[0]);
    expect(flagged.sort()).toEqual(
      [
        "DeviceAllow=",
        "IPAddressDeny=",
        "MemoryDenyWriteExecute=",
        "PrivateDevices=",
        "PrivateNetwork=",
        "PrivateUsers=",
        "RestrictAddressFamilies=~AF_(INET|INET6)",
        "RestrictAddressFamilies=~AF_NETLINK",
        "RestrictAddressFamilies=~AF_UNIX",
        "RootDirectory=/RootImage=",
        "SupplementaryGroups=",
      ].sort(),
    );
  });
});
