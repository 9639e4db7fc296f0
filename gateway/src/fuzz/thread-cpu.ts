/**
 * The CPU time of the calling thread, for the fuzz targets' time budgets. A
 * wall-clock budget counts the time a starved thread waits for a core: on
 * the shared 2-core machine at load 15-30 (or at `nice 19`) inputs that
 * take 2-10 ms alone took 0.9-2.2 s three times running and were reported
 * as hangs. CPU time counts only the work the input causes.
 */
import { readFileSync } from "node:fs";

/** USER_HZ: clock ticks per second in /proc on Linux x86-64 and arm64 (proc(5)). */
const CLK_TCK = 100;

let available = true;

/**
 * ms of CPU (user + system) this thread has used, or null where Linux's
 * /proc/thread-self is missing. Sync fs calls run on the calling thread,
 * so a worker_threads worker reads its own entry. Resolution: 10 ms.
 */
export function threadCpuMs(): number | null {
  if (!available) return null;
  try {
    const stat = readFileSync("/proc/thread-self/stat", "utf8");
    // Fields 14 and 15 (utime, stime), counted after the ")" that ends comm.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    available = false;
    return null;
  }
}
