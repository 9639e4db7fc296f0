/**
 * What coturn's verbose log (`verbose`, `simple-log`; coturn 4.6.1 from
 * Debian) says happened to each allocation, which coturn calls a session:
 *
 *   session 001000000000000001: new, realm=<camgw.lab>, username=<1767225600:board>, lifetime=600
 *   session 001000000000000001: realm <camgw.lab> user <1767225600:board>: incoming packet CREATE_PERMISSION processed, success
 *   session 001000000000000001: refreshed, realm=<camgw.lab>, username=<1767225600:board>, lifetime=0
 *   session 001000000000000001: delete: realm=<camgw.lab>, username=<1767225600:board>
 *
 * Tests read it to see whether a TURN client refreshed its allocation
 * (RFC 8656 section 7) and released it (a Refresh with LIFETIME 0) rather
 * than let it expire.
 */
import { readFile } from "node:fs/promises";

export interface TurnSession {
  /** coturn's session id. */
  id: string;
  /** The allocation's username (REST credentials: "<expiry>:<name>"). */
  username: string;
  /** In log order: "new", "refresh <lifetime>", "permission", "channel-bind", "delete". */
  events: string[];
}

/** The allocations in a coturn log whose username `owner` accepts (default: all), in order. */
export function turnSessions(
  log: string,
  owner: (username: string) => boolean = () => true,
): TurnSession[] {
  const sessions = new Map<string, TurnSession>();
  const users = new Map<string, string>();
  for (const line of log.split("\n")) {
    const m = /session (\d+): (.*)$/.exec(line);
    if (!m) continue;
    const [, id = "", text = ""] = m;
    const user = /username=<([^>]*)>/.exec(text)?.[1] ?? /user <([^>]*)>/.exec(text)?.[1];
    if (user) users.set(id, user);
    const username = users.get(id);
    if (username === undefined || !owner(username)) continue;
    let session = sessions.get(id);
    if (!session) {
      session = { id, username, events: [] };
      sessions.set(id, session);
    }
    const refreshed = /^refreshed, .*lifetime=(\d+)/.exec(text);
    if (text.startsWith("new,")) session.events.push("new");
    else if (refreshed) session.events.push(`refresh ${refreshed[1] ?? ""}`);
    else if (/CREATE_PERMISSION processed, success/.test(text)) session.events.push("permission");
    else if (/CHANNEL_BIND processed, success/.test(text)) session.events.push("channel-bind");
    else if (text.startsWith("delete:")) session.events.push("delete");
  }
  return [...sessions.values()];
}

/** The same, read from a log file (a missing file has no sessions). */
export async function readTurnSessions(
  logFile: string,
  owner?: (username: string) => boolean,
): Promise<TurnSession[]> {
  return turnSessions(await readFile(logFile, "utf8").catch(() => ""), owner);
}

/** True when an allocation was released by its client: a Refresh with LIFETIME 0, then deleted. */
export function released(session: TurnSession): boolean {
  return session.events.slice(-2).join(",") === "refresh 0,delete";
}
