/**
 * Test-local reader of the frame stamp the simulated camera draws into every
 * frame (shared spec "frame-stamp": 64 cells across the top band, bit 1 = luma
 * 235, word = 56-bit capture time in µs + CRC-8/0x07 over its 7 bytes).
 */

function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** Capture time in µs since the epoch, or undefined when no valid stamp is there. */
export function readFrameStamp(
  luma: Uint8Array,
  width: number,
  height: number,
): number | undefined {
  const band = Math.max(16, Math.round(height / 45));
  const cell = Math.floor(width / 64);
  if (cell < 2) return undefined;
  const y0 = Math.floor(band / 4);
  const y1 = Math.ceil((band * 3) / 4);
  let word = 0n;
  for (let i = 0; i < 64; i++) {
    const x0 = i * cell + Math.floor(cell / 4);
    const x1 = i * cell + Math.ceil((cell * 3) / 4);
    let sum = 0;
    let n = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        sum += luma[y * width + x] ?? 0;
        n++;
      }
    }
    word = (word << 1n) | (sum / n >= 128 ? 1n : 0n);
  }
  const time = word >> 8n;
  if (time === 0n) return undefined;
  const bytes = new Uint8Array(7);
  for (let i = 0; i < 7; i++) bytes[i] = Number((time >> BigInt(8 * (6 - i))) & 0xffn);
  if (crc8(bytes) !== Number(word & 0xffn)) return undefined;
  return Number(time);
}
