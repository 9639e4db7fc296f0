import { describe, expect, it } from "vitest";
import { MqttFrameMeter } from "./mqtt-frame-guard.js";

/** MQTT 3.1.1 2.2.3's Remaining Length encoding: 7 bits a byte, low first, top bit "more". */
function remainingLength(n: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return bytes;
}

/** A PUBLISH (type 3, QoS 0) whose body is `length` bytes. */
function packet(length: number): Buffer {
  return Buffer.concat([
    Buffer.from([0x30, ...remainingLength(length)]),
    Buffer.alloc(length, 0x61),
  ]);
}

/** Feeds `bytes` in chunks of the sizes given in turn; the first verdict that is not undefined. */
function feedInChunks(meter: MqttFrameMeter, bytes: Buffer, sizes: number[]): number | undefined {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    const verdict = meter.feed(bytes.subarray(at, at + size));
    if (verdict !== undefined) return verdict;
    at += size;
  }
  return undefined;
}

describe("MqttFrameMeter", () => {
  it("encodes lengths as the spec's table does (MQTT 3.1.1 2.2.3)", () => {
    expect(remainingLength(127)).toEqual([0x7f]);
    expect(remainingLength(128)).toEqual([0x80, 0x01]);
    expect(remainingLength(16_383)).toEqual([0xff, 0x7f]);
    expect(remainingLength(16_384)).toEqual([0x80, 0x80, 0x01]);
    expect(remainingLength(268_435_455)).toEqual([0xff, 0xff, 0xff, 0x7f]);
  });

  it("follows packets up to the limit through any split of the stream", () => {
    const stream = Buffer.concat([0, 1, 127, 128, 16_383, 16_384, 70_000, 2].map(packet));
    for (const sizes of [[1], [2, 3], [7, 1, 4096], [stream.length]]) {
      expect(feedInChunks(new MqttFrameMeter(70_000), stream, sizes), String(sizes)).toBe(
        undefined,
      );
    }
  });

  it("refuses a packet over the limit from its header alone, before its body comes", () => {
    const meter = new MqttFrameMeter(70_000);
    expect(meter.feed(packet(100))).toBe(undefined);
    // The header of a 70 001-byte PUBLISH, split in two, and none of its body.
    const header = packet(70_001).subarray(0, 4);
    expect(meter.feed(header.subarray(0, 2))).toBe(undefined);
    expect(meter.feed(header.subarray(2))).toBe(70_001);
    // 50 MiB, as issue 10's retained message, one byte at a time.
    const huge = new MqttFrameMeter(70_000);
    expect(feedInChunks(huge, Buffer.from([0x31, ...remainingLength(50 * 2 ** 20)]), [1])).toBe(
      50 * 2 ** 20,
    );
  });

  it("refuses a Remaining Length of more than four bytes as malformed", () => {
    const meter = new MqttFrameMeter(2 ** 30);
    expect(meter.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(-1);
  });
});
