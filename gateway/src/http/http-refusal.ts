/** A request answered with an HTTP error: status, text and extra headers (WHEP, snapshots). */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}
