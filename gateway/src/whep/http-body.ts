import type { IncomingMessage } from "node:http";

/** The request body was larger than allowed (answer 413). */
export class BodyTooLarge extends Error {}

/**
 * Reads a request body of at most `limit` bytes as UTF-8. Over the limit it
 * stops reading and rejects with BodyTooLarge at once (a declared
 * Content-Length over it is refused before any byte is read), so a client
 * cannot make the gateway buffer more than `limit`.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new BodyTooLarge(`body of ${declared} bytes is over ${limit}`));
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume();
        reject(new BodyTooLarge(`body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => {
      if (size <= limit) resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.once("error", reject);
  });
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
