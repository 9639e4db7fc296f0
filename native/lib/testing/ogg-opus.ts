/**
 * Ogg Opus files (RFC 7845 on the Ogg container of RFC 3533), so tests can
 * hand the addon's packets to an independent decoder (ffmpeg's own Opus
 * decoder) and feed the addon packets an independent encoder (ffmpeg with
 * libopus) made. One packet per page; enough for 20 ms mono/stereo streams.
 */

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial 0, no final XOR (RFC 3533 section 6). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

function crc32(b: Buffer): number {
  let crc = 0;
  for (const byte of b) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
  return crc;
}

const BOS = 2;
const EOS = 4;

function page(packet: Buffer, flags: number, granule: bigint, serial: number, seq: number): Buffer {
  const lacing: number[] = [];
  let left = packet.length;
  while (left >= 255) {
    lacing.push(255);
    left -= 255;
  }
  lacing.push(left); // a packet ending on a 255 boundary gets a 0 (RFC 3533 section 5)
  const h = Buffer.alloc(27 + lacing.length);
  h.write("OggS", 0, "latin1");
  h[4] = 0;
  h[5] = flags;
  h.writeBigInt64LE(granule, 6);
  h.writeUInt32LE(serial, 14);
  h.writeUInt32LE(seq, 18);
  h[26] = lacing.length;
  lacing.forEach((v, i) => (h[27 + i] = v));
  const p = Buffer.concat([h, packet]);
  p.writeUInt32LE(crc32(p), 22);
  return p;
}

export interface OpusStream {
  channels: number;
  /** Samples to drop from the decoder's output (the encoder's lookahead). */
  preSkip: number;
  packets: Buffer[];
  /** Samples per packet, at 48 kHz. */
  frameSamples: number;
}

/** An Ogg Opus file of equal-length packets. */
export function writeOggOpus(s: OpusStream): Buffer {
  const serial = 0x63616d67; // "camg"
  const head = Buffer.alloc(19);
  head.write("OpusHead", 0, "latin1");
  head[8] = 1; // version
  head[9] = s.channels;
  head.writeUInt16LE(s.preSkip, 10);
  head.writeUInt32LE(48000, 12); // the input rate, informational
  head.writeInt16LE(0, 16); // output gain
  head[18] = 0; // channel mapping family 0: mono or stereo
  const vendor = Buffer.from("camgw test", "latin1");
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write("OpusTags", 0, "latin1");
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  const pages = [page(head, BOS, 0n, serial, 0), page(tags, 0, 0n, serial, 1)];
  // granule position: samples (at 48 kHz, pre-skip included) to the end of the page
  s.packets.forEach((p, i) => {
    const last = i === s.packets.length - 1;
    pages.push(page(p, last ? EOS : 0, BigInt((i + 1) * s.frameSamples), serial, i + 2));
  });
  return Buffer.concat(pages);
}

/** The packets of an Ogg Opus file (the first logical stream), headers excluded. */
export function readOggOpus(file: Buffer): {
  channels: number;
  preSkip: number;
  packets: Buffer[];
} {
  const packets: Buffer[] = [];
  let partial: Buffer[] = [];
  for (let at = 0; at + 27 <= file.length;) {
    if (file.toString("latin1", at, at + 4) !== "OggS") throw new Error(`no Ogg page at ${at}`);
    const nsegs = file[at + 26] ?? 0;
    let body = at + 27 + nsegs;
    for (let i = 0; i < nsegs; i++) {
      const len = file[at + 27 + i] ?? 0;
      partial.push(file.subarray(body, body + len));
      body += len;
      if (len < 255) {
        packets.push(Buffer.concat(partial));
        partial = [];
      }
    }
    at = body;
  }
  const head = packets[0];
  if (head?.toString("latin1", 0, 8) !== "OpusHead") throw new Error("not an Ogg Opus file");
  return { channels: head[9] ?? 0, preSkip: head.readUInt16LE(10), packets: packets.slice(2) };
}
