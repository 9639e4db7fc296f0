import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * systemd's side of sd_notify(3) for tests, played by Python's socket module
 * (Node cannot receive AF_UNIX datagrams): binds `path` ('@' for the abstract
 * namespace, as systemd writes NOTIFY_SOCKET) and hands over each datagram.
 */
const LISTENER = `
import json, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + path[1:] if path.startswith("@") else path)
print(json.dumps("listening"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

export interface NotifySocket {
  /** The next datagram; rejects when none comes within `timeoutMs`. */
  next(timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function listenForNotifications(path: string): Promise<NotifySocket> {
  const child = spawn("python3", ["-c", LISTENER, path], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (timeoutMs = 30_000): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no notification within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const line = await Promise.race([lines.next(), timeout]);
      if (line.done) throw new Error("the notification listener ended");
      return JSON.parse(line.value) as string;
    } finally {
      clearTimeout(timer);
    }
  };
  const socket = { next, close: () => child.kill() };
  try {
    if ((await next()) !== "listening") throw new Error("the notification listener did not start");
  } catch (err) {
    socket.close();
    throw err;
  }
  return socket;
}
