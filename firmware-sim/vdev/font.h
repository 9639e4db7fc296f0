/* A 5x7 bitmap font for the on-frame text (digits, the letters of our
 * labels, a few symbols). */
#ifndef CAMGW_FONT_H
#define CAMGW_FONT_H

#include <stdint.h>

#define FONT_W 5
#define FONT_H 7

/* 7 rows, bit 4 = leftmost column; NULL for characters the font lacks */
const uint8_t* font_glyph(char c);

#endif
