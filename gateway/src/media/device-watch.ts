import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

/**
 * Calls `onChange` when a device node may have come back: inotify (fs.watch)
 * on its directory, filtered by the node's name. On a board, udev creates
 * /dev/videoN when the camera is plugged in, and inotify says so at once.
 *
 * This is only a hint that cuts a wait short: the caller also retries on a
 * timer, because inotify cannot see every node. firmware-sim's devices live
 * in a preloaded library that answers readdir/stat for /dev, not in the
 * kernel's /dev, so no inotify event ever names them (and fs.watch may be
 * refused outright, e.g. in a container without inotify instances left).
 */
export class DeviceWatch {
  private watcher: FSWatcher | null = null;

  constructor(
    readonly path: string,
    onChange: () => void,
  ) {
    const name = basename(path);
    try {
      // persistent: false: a watch never keeps the process alive by itself.
      this.watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) onChange();
      });
      this.watcher.on("error", () => this.close());
    } catch {
      this.watcher = null;
    }
  }

  /** True when inotify is watching (false: only the caller's timer will notice). */
  get active(): boolean {
    return this.watcher !== null;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
