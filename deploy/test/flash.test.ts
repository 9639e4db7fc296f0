/**
 * `make flash` on a synthetic Raspberry Pi OS-shaped image (MBR, FAT32 boot,
 * ext4 root; made by make-test-image.sh without mounting). What the flash
 * step put in is read back with mtools and debugfs, and both file systems
 * must still check clean with fsck. The package is a stand-in .deb built
 * here (the flash step copies it whole; the real one is checked by
 * deb.test.ts), so these tests need no cross build.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../gateway/src/config.js";
import { must, mustBytes, repoRoot, run, tempDir } from "./helpers.js";

const flash = join(repoRoot, "deploy/flash/flash.sh");
const isRoot = process.getuid?.() === 0;

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Byte offsets of the partitions, read independently of flash.sh. */
function offsets(img: string): { boot: number; root: number } {
  const table = JSON.parse(must("sfdisk", ["-J", img])) as {
    partitiontable: { sectorsize?: number; partitions: { start: number; type: string }[] };
  };
  const sector = table.partitiontable.sectorsize ?? 512;
  const [boot, root] = table.partitiontable.partitions;
  if (!boot || !root) throw new Error(`${img}: expected two partitions`);
  expect([boot.type, root.type]).toEqual(["c", "83"]);
  return { boot: boot.start * sector, root: root.start * sector };
}

describe("make flash", () => {
  let dir = "";
  let image = "";
  let deb = "";

  beforeAll(() => {
    dir = tempDir("flash");
    image = join(dir, "raspios.img");
    must(join(repoRoot, "deploy/test/make-test-image.sh"), [image]);
    // A stand-in camgw package: control fields flash.sh checks, and the
    // default config it starts from (the real one, from deploy/package).
    const pkg = join(dir, "pkg");
    mkdirSync(join(pkg, "DEBIAN"), { recursive: true });
    mkdirSync(join(pkg, "etc/camgw"), { recursive: true });
    writeFileSync(
      join(pkg, "DEBIAN/control"),
      "Package: camgw\nVersion: 0.0.0-test\nArchitecture: arm64\nMaintainer: t <t@localhost>\nDescription: test stand-in\n",
    );
    writeFileSync(
      join(pkg, "etc/camgw/config.yaml"),
      readFileSync(join(repoRoot, "deploy/package/config.yaml")),
    );
    deb = join(dir, "camgw_0.0.0-test_arm64.deb");
    must("dpkg-deb", ["--root-owner-group", "--build", pkg, deb]);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints its usage with --help", () => {
    const r = run(flash, ["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--image .*--device .*--out/s);
  });

  it("puts the package, an enabled first-boot unit, settings and Wi-Fi in the image, which checks clean", () => {
    const out = join(dir, "out.img");
    const before = sha256(image);
    const r = run(flash, [
      ...["--image", image, "--out", out, "--deb", deb],
      ...["--device-id", "porch-cam", "--broker", "mqtts://broker.example:8883"],
      ...["--broker-username", "cam", "--broker-password", 'p"w\\d'],
      ...["--set", "fps=25", "--wifi-ssid", "Home Net", "--wifi-password", "correct horse"],
      ...["--wifi-country", "DE", "--ssh"],
    ]);
    expect(r.stderr).toMatch(/verified sha256 [0-9a-f]{64}/);
    expect(r.status).toBe(0);
    expect(sha256(image)).toBe(before);

    const { boot, root } = offsets(out);
    const ext4 = `${out}?offset=${root}`;
    const fat = `${out}@@${boot}`;
    const cat = (p: string): Buffer => mustBytes("debugfs", ["-R", `cat ${p}`, ext4]);
    const stat = (p: string): string => must("debugfs", ["-R", `stat ${p}`, ext4]);

    expect(sha256Buffer(cat("/var/lib/camgw-firstboot/camgw.deb"))).toBe(sha256(deb));
    expect(stat("/var/lib/camgw-firstboot")).toMatch(/Mode: +0700 /);
    expect(stat("/usr/local/sbin/camgw-firstboot")).toMatch(/User: +0 +Group: +0/);
    expect(stat("/usr/local/sbin/camgw-firstboot")).toMatch(/Mode: +0755 /);
    expect(cat("/usr/local/sbin/camgw-firstboot").toString()).toBe(
      readFileSync(join(repoRoot, "deploy/flash/camgw-firstboot.sh"), "utf8"),
    );
    expect(cat("/etc/systemd/system/camgw-firstboot.service").toString()).toMatch(
      /ExecStart=\/usr\/local\/sbin\/camgw-firstboot/,
    );
    expect(stat("/etc/systemd/system/multi-user.target.wants/camgw-firstboot.service")).toMatch(
      /Type: symlink[\s\S]*Fast link dest: "\/etc\/systemd\/system\/camgw-firstboot.service"/,
    );

    const wifi = "/etc/NetworkManager/system-connections/camgw-wifi.nmconnection";
    expect(stat(wifi)).toMatch(/Mode: +0600 /);
    expect(cat(wifi).toString()).toMatch(/ssid=Home Net\n[\s\S]*psk=correct horse\n/);
    expect(must("mtype", ["-i", fat, "::/cmdline.txt"])).toMatch(
      / rootwait cfg80211\.ieee80211_regdom=DE\n$/,
    );
    expect(must("mdir", ["-b", "-i", fat, "::/"])).toMatch(/::\/ssh\n/);

    // The settings, parsed by the gateway's own config loader.
    const cfgPath = join(dir, "config-from-image.yaml");
    writeFileSync(cfgPath, must("mtype", ["-i", fat, "::/camgw/config.yaml"]));
    const config = loadConfig({ file: cfgPath });
    expect(config["device-id"]).toBe("porch-cam");
    expect(config.broker).toBe("mqtts://broker.example:8883");
    expect(config["broker-username"]).toBe("cam");
    expect(config["broker-password"]).toBe('p"w\\d');
    expect(config.fps).toBe(25);

    const e2 = run("e2fsck", ["-fn", ext4]);
    expect(e2.stdout + e2.stderr).not.toMatch(/error|corrupt|fix\?/i);
    expect(e2.status).toBe(0);
    const bootPart = join(dir, "boot.fat");
    must("dd", [
      `if=${out}`,
      `of=${bootPart}`,
      "iflag=skip_bytes",
      `skip=${boot}`,
      "bs=1M",
      "count=64",
    ]);
    const vf = run("fsck.vfat", ["-n", bootPart]);
    expect(vf.status, vf.stdout).toBe(0);
  });

  it("refuses bad settings before writing anything", () => {
    const out = join(dir, "never.img");
    const cases: [string[], RegExp][] = [
      [["--device-id", "has space"], /device id must be 1-64 characters/],
      [["--broker", "http://x"], /broker must be embedded or a mqtt/],
      [["--wifi-ssid", "x", "--wifi-password", "short"], /8 to 63 characters/],
      [["--wifi-ssid", "x"], /needs --wifi-country/],
      [["--set", "fps"], /--set wants KEY=VALUE/],
      [["--bogus"], /unknown option '--bogus'/],
    ];
    for (const [extra, message] of cases) {
      const r = run(flash, ["--image", image, "--out", out, "--deb", deb, ...extra]);
      expect(r.stderr, extra.join(" ")).toMatch(message);
      expect(r.status).not.toBe(0);
    }
    const missing = run(flash, ["--image", join(dir, "nope.img"), "--out", out, "--deb", deb]);
    expect(missing.stderr).toMatch(/image '.*nope\.img' does not exist/);
    const noDeb = run(flash, ["--image", image, "--out", out, "--deb", ""]);
    expect(noDeb.stderr).toMatch(/run 'make dist' first/);
    const garbage = join(dir, "garbage.img");
    writeFileSync(garbage, Buffer.alloc(1 << 20, 0x5a));
    const notPi = run(flash, ["--image", garbage, "--out", out, "--deb", deb]);
    expect(notPi.stderr).toMatch(/no partition table|not a Raspberry Pi OS/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it("takes Wi-Fi from a file of ssid=, password= and country= lines", () => {
    const out = join(dir, "wifi.img");
    const wifi = join(dir, "wifi.txt");
    writeFileSync(wifi, "ssid=Barn\npassword=hay-bale-42\ncountry=FR\n");
    const r = run(flash, ["--image", image, "--out", out, "--deb", deb, "--wifi-file", wifi]);
    expect(r.status, r.stderr).toBe(0);
    const { boot, root } = offsets(out);
    const keyfile = must("debugfs", [
      "-R",
      "cat /etc/NetworkManager/system-connections/camgw-wifi.nmconnection",
      `${out}?offset=${root}`,
    ]);
    expect(keyfile).toMatch(/^ssid=Barn$/m);
    expect(keyfile).toMatch(/^psk=hay-bale-42$/m);
    expect(must("mtype", ["-i", `${out}@@${boot}`, "::/cmdline.txt"])).toMatch(
      /cfg80211\.ieee80211_regdom=FR\n$/,
    );
  });

  const loader = join(repoRoot, "build/gateway/src/config.js");
  it.skipIf(!existsSync(loader))("checks the settings with the gateway's own loader", () => {
    const out = join(dir, "never2.img");
    const r = run(flash, ["--image", image, "--out", out, "--deb", deb, "--set", "fps=9999"]);
    expect(r.stderr).toMatch(/fps.*must be between 1 and 120/);
    expect(r.status).not.toBe(0);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a target that is not a whole, unmounted disk", () => {
    const asDevice = (device: string) =>
      run(flash, ["--image", image, "--device", device, "--deb", deb, "--yes"]);
    expect(asDevice(image).stderr).toMatch(/is not a block device \(use --out/);
    expect(asDevice("/dev/camgw-no-such-disk").stderr).toMatch(/does not exist/);
  });

  const rootSource = run("findmnt", ["-n", "-o", "SOURCE", "--target", "/"]).stdout.trim();
  it.skipIf(!rootSource.startsWith("/dev/"))("refuses the disk this system runs from", () => {
    const disk = must("lsblk", ["-nsr", "-o", "PATH,TYPE", rootSource])
      .split("\n")
      .map((l) => l.split(" "))
      .find(([, type]) => type === "disk")?.[0];
    expect(disk).toBeDefined();
    const r = run(flash, ["--image", image, "--device", disk ?? "", "--deb", deb, "--yes"]);
    expect(r.stderr).toMatch(/holds this system/);
    expect(r.status).not.toBe(0);
  });

  // Loop devices stand in for an SD card; making and mounting them needs root.
  it.skipIf(!isRoot)("refuses a mounted disk, and writes and verifies an unmounted one", () => {
    const card = join(dir, "card.img");
    must("truncate", ["-s", "200M", card]);
    const loop = must("losetup", ["-f", "--show", card]).trim();
    const mnt = join(dir, "mnt");
    mkdirSync(mnt);
    try {
      must("mkfs.ext4", ["-q", loop]);
      must("mount", [loop, mnt]);
      const mounted = run(flash, ["--image", image, "--device", loop, "--deb", deb, "--yes"]);
      expect(mounted.stderr).toMatch(/is mounted \(at .*mnt\)/);
      expect(mounted.status).not.toBe(0);
      must("umount", [mnt]);

      const r = run(flash, [
        "--image",
        image,
        "--device",
        loop,
        "--deb",
        deb,
        "--yes",
        "--device-id",
        "loop-cam",
      ]);
      expect(r.stderr).toMatch(/verified sha256/);
      expect(r.status).toBe(0);
      const { boot } = offsets(loop);
      expect(must("mtype", ["-i", `${loop}@@${boot}`, "::/camgw/config.yaml"])).toMatch(
        /^device-id: "loop-cam"$/m,
      );
    } finally {
      run("umount", [mnt]);
      run("losetup", ["-d", loop]);
    }
  });
});

function sha256Buffer(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}
