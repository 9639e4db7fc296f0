/* The realistic scene (CAMGW_SIM_SCENE=realistic): a street with detail,
 * camera sway, passing cars and sensor noise, so encoders need the bitrate
 * they are given, as with a real camera. */
#ifndef CAMGW_SCENE_H
#define CAMGW_SCENE_H

#include <stdint.h>

#include "pattern.h"

struct scene* scene_create(uint32_t fourcc, int w, int h, int fps);
void scene_free(struct scene* s);
/* draws rows [y0, h) of frame `seq`; y0 even */
void scene_draw(const struct scene* s, const struct planes* pl, int y0, uint64_t seq);

#endif
