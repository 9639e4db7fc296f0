/**
 * Refuses oversized MQTT packets before anyone buffers them. aedes 1.2 (and
 * mqtt-packet 9 under it) has no packet size limit: it would buffer a 50 MiB
 * PUBLISH whole, then keep it as a retained message. The guard reads only the
 * fixed header of each packet as bytes pass (MQTT 3.1.1 2.2: one byte of type
 * and flags, then the Remaining Length as 1-4 bytes of 7 bits each, low
 * first, the top bit meaning "more") and cuts the connection as soon as a
 * header announces more than the limit: nothing of that packet is kept.
 */
import { Duplex } from "node:stream";

/** Follows MQTT packet boundaries in a byte stream; tells when a packet is too large. */
export class MqttFrameMeter {
  readonly #limit: number;
  /** Bytes of the current packet's body still to skip. */
  #skip = 0;
  /** Reading a header: 0 = expecting the type byte, 1..4 = Remaining Length bytes read. */
  #headerBytes = 0;
  #length = 0;
  #multiplier = 1;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /**
   * Feeds the next bytes; returns the announced Remaining Length of the first
   * packet over the limit (or malformed: -1), or undefined when all is well.
   */
  feed(chunk: Uint8Array): number | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i] ?? 0;
      i += 1;
      if (this.#headerBytes === 0) {
        this.#headerBytes = 1;
        this.#length = 0;
        this.#multiplier = 1;
        continue;
      }
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#headerBytes += 1;
      if (this.#length > this.#limit) return this.#length;
      if ((byte & 0x80) !== 0) {
        // At most four length bytes (MQTT 3.1.1 2.2.3).
        if (this.#headerBytes > 4) return -1;
        continue;
      }
      this.#headerBytes = 0;
      this.#skip = this.#length;
    }
    return undefined;
  }
}

/**
 * `inner` (a socket or a WebSocket stream) as a Duplex that passes bytes both
 * ways unchanged and destroys the connection when a packet is over `limit`
 * bytes; `onRefused` hears why.
 */
export function guardMqttFrames(
  inner: Duplex,
  limit: number,
  onRefused: (error: Error) => void,
): Duplex {
  const meter = new MqttFrameMeter(limit);
  const guarded = new Duplex({
    read() {
      inner.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      inner.write(chunk, callback);
    },
    final(callback) {
      inner.end(callback);
    },
    destroy(error, callback) {
      inner.destroy();
      callback(error);
    },
  });
  inner.on("data", (chunk: Buffer) => {
    const over = meter.feed(chunk);
    if (over !== undefined) {
      const error = new Error(
        over < 0
          ? "malformed MQTT packet length: connection closed"
          : `MQTT packet of ${over} bytes is over the ${limit}-byte limit: connection closed`,
      );
      onRefused(error);
      inner.destroy();
      guarded.destroy();
      return;
    }
    if (!guarded.push(chunk)) inner.pause();
  });
  inner.once("end", () => guarded.push(null));
  inner.once("close", () => guarded.destroy());
  inner.on("error", (err) => guarded.destroy(err));
  return guarded;
}
