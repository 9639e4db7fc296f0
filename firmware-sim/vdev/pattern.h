/* The camera's picture, drawn straight into the buffer's own pixel format. */
#ifndef CAMGW_PATTERN_H
#define CAMGW_PATTERN_H

#include <stdint.h>

struct pattern {
  uint32_t fourcc; /* YUYV, NV12 or YU12 */
  int w, h;
  int fps;
  uint8_t* bar_y; /* two periods of the bar line, luma (YUYV: packed pairs) */
  uint8_t* bar_u; /* chroma: U plane line (YU12), UV line (NV12) */
  uint8_t* bar_v;
};

int pattern_init(struct pattern* p, uint32_t fourcc, int w, int h, int fps);
void pattern_free(struct pattern* p);
/* bytes per line of the (first) plane and total frame size */
uint32_t pattern_bytesperline(uint32_t fourcc, int w);
uint32_t pattern_sizeimage(uint32_t fourcc, int w, int h);
/* draw frame `seq` captured at `capture_us` (CLOCK_REALTIME µs) into buf */
void pattern_draw(const struct pattern* p, uint8_t* buf, uint64_t seq, uint64_t capture_us);

#endif
