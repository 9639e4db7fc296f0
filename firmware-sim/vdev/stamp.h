/* The frame stamp of docs (frame-stamp spec): capture time in the top band. */
#ifndef CAMGW_STAMP_H
#define CAMGW_STAMP_H

#include <stdint.h>

uint8_t stamp_crc8(const uint8_t* p, int n);
/* the 64-bit word: 56-bit microseconds since the epoch, then CRC-8 */
uint64_t stamp_word(uint64_t capture_us);
/* band height in rows for a frame height: max(16, round(h / 45)) */
int stamp_band_rows(int height);

#endif
