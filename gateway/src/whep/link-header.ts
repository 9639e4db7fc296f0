/**
 * STUN/TURN servers as HTTP Link header fields (RFC 8288) with
 * rel="ice-server" (RFC 9725 section 4.6, used by draft-ietf-wish-whep
 * section 4.6 as well):
 *
 *   Link: <stun:stun.example.net>; rel="ice-server"
 *   Link: <turn:turn.example.net?transport=udp>; rel="ice-server";
 *         username="user"; credential="myPassword"; credential-type="password"
 *
 * Used both ways: the WHEP endpoint writes them, the WHIP client reads the
 * ones its server sends.
 */

/** One STUN/TURN server, as in the W3C RTCIceServer dictionary (one URL each). */
export interface LinkIceServer {
  urls: string;
  username?: string;
  credential?: string;
}

/** RFC 9110 section 5.6.4 quoted-string: backslash-escape `"` and `\`. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * One Link field value per server. Values that could not be written safely
 * (a URL with `>` or whitespace, control characters anywhere) are left out.
 */
export function iceServerLinks(servers: readonly LinkIceServer[]): string[] {
  const links: string[] = [];
  for (const server of servers) {
    const fields = [server.urls, server.username ?? "", server.credential ?? ""];
    if (fields.some(hasControlCharacter)) continue;
    if (!/^(stun|stuns|turn|turns):[^\s<>]+$/.test(server.urls)) continue;
    let link = `<${server.urls}>; rel="ice-server"`;
    if (server.username !== undefined && server.credential !== undefined) {
      link += `; username=${quoted(server.username)}; credential=${quoted(server.credential)}; credential-type="password"`;
    }
    links.push(link);
  }
  return links;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** One parsed Link value: its target and parameters (names lower-cased). */
export interface Link {
  target: string;
  params: Map<string, string>;
}

/**
 * Parses Link header field values (RFC 8288 section 3): each value may hold
 * several comma-separated links; parameters are token or quoted-string.
 * Malformed links are skipped, never thrown on: they come from a server.
 */
export function parseLinks(values: readonly string[]): Link[] {
  const links: Link[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    while (i < s.length) {
      while (i < s.length && /[\s,]/.test(s[i] ?? "")) i++;
      if (s[i] !== "<") {
        // Not a link start: skip to the next comma outside quotes.
        i = skipToComma(s, i);
        continue;
      }
      const close = s.indexOf(">", i);
      if (close < 0) break;
      const link: Link = { target: s.slice(i + 1, close), params: new Map() };
      i = close + 1;
      for (;;) {
        while (i < s.length && /\s/.test(s[i] ?? "")) i++;
        if (s[i] !== ";") break;
        i++;
        while (i < s.length && /\s/.test(s[i] ?? "")) i++;
        const name = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(s.slice(i))?.[0];
        if (!name) break;
        i += name.length;
        while (i < s.length && /\s/.test(s[i] ?? "")) i++;
        let paramValue = "";
        if (s[i] === "=") {
          i++;
          while (i < s.length && /\s/.test(s[i] ?? "")) i++;
          if (s[i] === '"') {
            i++;
            while (i < s.length && s[i] !== '"') {
              if (s[i] === "\\") i++;
              paramValue += s[i] ?? "";
              i++;
            }
            i++;
          } else {
            const token = /^[^\s;,]*/.exec(s.slice(i))?.[0] ?? "";
            paramValue = token;
            i += token.length;
          }
        }
        const key = name.toLowerCase();
        // RFC 8288 section 3.3: only the first occurrence of a parameter counts.
        if (!link.params.has(key)) link.params.set(key, paramValue);
      }
      links.push(link);
      i = skipToComma(s, i);
    }
  }
  return links;
}

function skipToComma(s: string, from: number): number {
  let i = from;
  let inQuotes = false;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === "\\" && inQuotes) i++;
    else if (c === "," && !inQuotes) return i + 1;
    i++;
  }
  return i;
}

/** The ice-server links among `links` as RTCIceServer-like entries (RFC 9725 section 4.6). */
export function iceServersFromLinks(links: readonly Link[]): LinkIceServer[] {
  const servers: LinkIceServer[] = [];
  for (const link of links) {
    const rel = (link.params.get("rel") ?? "").toLowerCase().split(/\s+/);
    if (!rel.includes("ice-server")) continue;
    if (!/^(stun|stuns|turn|turns):\S+$/.test(link.target)) continue;
    const username = link.params.get("username");
    const credential = link.params.get("credential");
    const type = link.params.get("credential-type") ?? "password";
    const server: LinkIceServer = { urls: link.target };
    if (username !== undefined && credential !== undefined && type === "password") {
      server.username = username;
      server.credential = credential;
    }
    servers.push(server);
  }
  return servers;
}
