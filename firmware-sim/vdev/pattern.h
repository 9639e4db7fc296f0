/* The camera's picture, drawn straight into the buffer's own pixel format. */
#ifndef CAMGW_PATTERN_H
#define CAMGW_PATTERN_H

#include <stdint.h>

/* What the camera looks at (CAMGW_SIM_SCENE). */
enum pattern_scene {
  PATTERN_SCENE_BARS,      /* moving colour bars: compresses to almost nothing */
  PATTERN_SCENE_REALISTIC, /* detail, motion and sensor noise: encoders need their bitrate */
};

/* "bars" or "realistic" (NULL or "" is bars); -1 for anything else */
int pattern_scene_parse(const char* name);

struct scene;

struct pattern {
  uint32_t fourcc; /* YUYV, NV12 or YU12 */
  int w, h;
  int fps;
  uint8_t* bar_y; /* two periods of the bar line, luma (YUYV: packed pairs) */
  uint8_t* bar_u; /* chroma: U plane line (YU12), UV line (NV12) */
  uint8_t* bar_v;
  struct scene* scene; /* PATTERN_SCENE_REALISTIC only */
};

/* A frame buffer's planes: y (YUYV: the packed line), u (NV12: interleaved
 * UV), v (YU12 only); ys and cs are the luma and chroma strides in bytes. */
struct planes {
  uint8_t *y, *u, *v;
  int ys, cs;
};

int pattern_init(struct pattern* p, uint32_t fourcc, int w, int h, int fps,
                 enum pattern_scene scene);
void pattern_free(struct pattern* p);
/* bytes per line of the (first) plane and total frame size */
uint32_t pattern_bytesperline(uint32_t fourcc, int w);
uint32_t pattern_sizeimage(uint32_t fourcc, int w, int h);
/* draw frame `seq` captured at `capture_us` (CLOCK_REALTIME µs) into buf */
void pattern_draw(const struct pattern* p, uint8_t* buf, uint64_t seq, uint64_t capture_us);
/* Fill [x0,x1) x [y0,y1) with one colour, clipped to the frame. x0, x1, y0 even. */
void pattern_fill(uint32_t fourcc, int w, int h, const struct planes* pl, int x0, int y0, int x1,
                  int y1, uint8_t luma, uint8_t cb, uint8_t cr);

#endif
