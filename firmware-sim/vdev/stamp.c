/* Frame stamp (spec: "Frame stamp (simulated cameras)"): 64 cells across the
 * top band, bit i of the big-endian word in cell i, white (luma 235) for 1,
 * black (luma 16) for 0. The word is the capture time in microseconds
 * (CLOCK_REALTIME at end of exposure) in its upper 56 bits and a CRC-8
 * (poly 0x07, init 0, no reflection, no final XOR) over those 7 bytes. */
#include "stamp.h"

uint8_t stamp_crc8(const uint8_t* p, int n) {
  uint8_t crc = 0;
  for (int i = 0; i < n; i++) {
    crc ^= p[i];
    for (int b = 0; b < 8; b++) crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}

uint64_t stamp_word(uint64_t capture_us) {
  uint64_t t = capture_us & ((1ull << 56) - 1);
  uint8_t bytes[7];
  for (int i = 0; i < 7; i++) bytes[i] = (uint8_t)(t >> (8 * (6 - i)));
  return t << 8 | stamp_crc8(bytes, 7);
}

int stamp_band_rows(int height) {
  int r = (height + 22) / 45; /* round(h / 45) */
  return r < 16 ? 16 : r;
}
