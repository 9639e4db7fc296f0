/**
 * The lab's reaper: `node reaper.js LAB_DIR`, started by the lab's owner
 * in its own process group with a pipe on stdin. When the owner asks
 * ("close") or the pipe closes because the owner died in any way (even
 * SIGKILL, which no handler sees), it removes the lab its lab.json names:
 * every process in the lab's namespaces, the namespaces (and with them
 * their veths, TUN devices and nft tables) and the lab's folder. It
 * ignores the signals a terminal sends, so a Ctrl-C cannot stop it half-way.
 */
import { removeLab, readRecord } from "./registry.js";

const dir = process.argv[2] ?? "";
if (!dir) {
  process.stderr.write("usage: reaper.js LAB_DIR\n");
  process.exit(2);
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const)
  process.on(sig, () => undefined);

let removing: Promise<void> | null = null;
function reap(): void {
  removing ??= (async () => {
    const record = readRecord(dir);
    if (record) await removeLab(record.id, record.namespaces, dir);
    process.exit(0);
  })();
}

process.stdin.on("data", (chunk: Buffer) => {
  if (chunk.toString().includes("close")) reap();
});
process.stdin.on("end", reap);
process.stdin.on("error", reap);
process.stdout.write("ready\n");
