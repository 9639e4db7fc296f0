/* Test picture: moving colour bars (the 75% EBU bars vivid's TPG also draws)
 * or the realistic scene (scene.c), the stamp band of the frame-stamp spec,
 * and text boxes with a UTC clock to the millisecond, the frame number and
 * the mode. Cheap by construction: the bar line is precomputed twice over, so
 * each row of a frame is one memcpy from a moving offset; text and stamp
 * touch only small rectangles. */
#define _GNU_SOURCE
#include "pattern.h"

#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "font.h"
#include "scene.h"
#include "stamp.h"

/* BT.601 limited range: white, yellow, cyan, green, magenta, red, blue, black */
static const uint8_t BARS[8][3] = {{235, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
                                   {84, 184, 198},  {65, 100, 212}, {35, 212, 114}, {16, 128, 128}};

uint32_t pattern_bytesperline(uint32_t fourcc, int w) {
  return fourcc == V4L2_PIX_FMT_YUYV ? (uint32_t)w * 2 : (uint32_t)w;
}

uint32_t pattern_sizeimage(uint32_t fourcc, int w, int h) {
  return fourcc == V4L2_PIX_FMT_YUYV ? (uint32_t)(w * h * 2) : (uint32_t)(w * h * 3 / 2);
}

int pattern_scene_parse(const char* name) {
  if (!name || !*name || strcmp(name, "bars") == 0) return PATTERN_SCENE_BARS;
  if (strcmp(name, "realistic") == 0) return PATTERN_SCENE_REALISTIC;
  return -1;
}

int pattern_init(struct pattern* p, uint32_t fourcc, int w, int h, int fps,
                 enum pattern_scene scene) {
  memset(p, 0, sizeof(*p));
  p->fourcc = fourcc;
  p->w = w;
  p->h = h;
  p->fps = fps;
  if (scene == PATTERN_SCENE_REALISTIC) {
    p->scene = scene_create(fourcc, w, h, fps);
    if (!p->scene) return -1;
  }
  int n = 2 * w; /* two periods: any offset in [0, w) reads w pixels */
  p->bar_y = malloc((size_t)n * 2);
  p->bar_u = malloc((size_t)n);
  p->bar_v = malloc((size_t)n);
  if (!p->bar_y || !p->bar_u || !p->bar_v) {
    pattern_free(p);
    return -1;
  }
  for (int x = 0; x < n; x++) {
    const uint8_t* c = BARS[(x % w) * 8 / w];
    if (fourcc == V4L2_PIX_FMT_YUYV) {
      p->bar_y[2 * x] = c[0];
      p->bar_y[2 * x + 1] = (x & 1) ? c[2] : c[1];
    } else {
      p->bar_y[x] = c[0];
      if (fourcc == V4L2_PIX_FMT_NV12)
        p->bar_u[x] = (x & 1) ? c[2] : c[1]; /* interleaved UV, one byte per luma column */
      else if (!(x & 1)) {
        p->bar_u[x / 2] = c[1];
        p->bar_v[x / 2] = c[2];
      }
    }
  }
  return 0;
}

void pattern_free(struct pattern* p) {
  scene_free(p->scene);
  p->scene = NULL;
  free(p->bar_y);
  free(p->bar_u);
  free(p->bar_v);
  p->bar_y = p->bar_u = p->bar_v = NULL;
}

static struct planes planes_of(const struct pattern* p, uint8_t* buf) {
  struct planes pl = {buf, NULL, NULL, (int)pattern_bytesperline(p->fourcc, p->w), p->w / 2};
  if (p->fourcc == V4L2_PIX_FMT_NV12) {
    pl.u = buf + p->w * p->h;
    pl.cs = p->w;
  } else if (p->fourcc == V4L2_PIX_FMT_YUV420) {
    pl.u = buf + p->w * p->h;
    pl.v = pl.u + (p->w / 2) * (p->h / 2);
  }
  return pl;
}

void pattern_fill(uint32_t fourcc, int w, int h, const struct planes* pl, int x0, int y0, int x1,
                  int y1, uint8_t luma, uint8_t cb, uint8_t cr) {
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > w) x1 = w;
  if (y1 > h) y1 = h;
  if (x0 >= x1 || y0 >= y1) return;
  for (int y = y0; y < y1; y++) {
    if (fourcc == V4L2_PIX_FMT_YUYV) {
      uint8_t* row = pl->y + y * pl->ys;
      for (int x = x0; x < x1; x++) {
        row[2 * x] = luma;
        row[2 * x + 1] = (x & 1) ? cr : cb;
      }
    } else {
      memset(pl->y + y * pl->ys + x0, luma, (size_t)(x1 - x0));
    }
  }
  if (fourcc == V4L2_PIX_FMT_YUYV) return;
  for (int cy = y0 / 2; cy < (y1 + 1) / 2; cy++) {
    if (fourcc == V4L2_PIX_FMT_NV12) {
      uint8_t* row = pl->u + cy * pl->cs;
      for (int x = x0; x < x1; x++) row[x] = (x & 1) ? cr : cb;
    } else {
      memset(pl->u + cy * pl->cs + x0 / 2, cb, (size_t)(x1 - x0) / 2);
      memset(pl->v + cy * pl->cs + x0 / 2, cr, (size_t)(x1 - x0) / 2);
    }
  }
}

/* Fill [x0,x1) x [y0,y1) with luma `y` and neutral chroma. x0, x1, y0 even. */
static void fill_rect(const struct pattern* p, const struct planes* pl, int x0, int y0, int x1,
                      int y1, uint8_t luma) {
  pattern_fill(p->fourcc, p->w, p->h, pl, x0, y0, x1, y1, luma, 128, 128);
}

static void set_luma(const struct pattern* p, const struct planes* pl, int x, int y, uint8_t v) {
  if (p->fourcc == V4L2_PIX_FMT_YUYV)
    pl->y[y * pl->ys + 2 * x] = v;
  else
    pl->y[y * pl->ys + x] = v;
}

/* Text on a black box at (x, y), glyph pixels scaled by s. */
static void draw_text(const struct pattern* p, const struct planes* pl, int x, int y, int s,
                      const char* text) {
  int n = (int)strlen(text);
  int pad = s;
  fill_rect(p, pl, (x - pad) & ~1, (y - pad) & ~1, (x + n * 6 * s + pad + 1) & ~1,
            (y + 8 * s + pad + 1) & ~1, 16);
  for (int i = 0; i < n; i++) {
    const uint8_t* g = font_glyph(text[i]);
    if (!g) continue;
    for (int r = 0; r < FONT_H; r++)
      for (int c = 0; c < FONT_W; c++) {
        if (!(g[r] >> (4 - c) & 1)) continue;
        for (int dy = 0; dy < s; dy++)
          for (int dx = 0; dx < s; dx++) {
            int px = x + (i * 6 + c) * s + dx, py = y + r * s + dy;
            if (px < p->w && py < p->h) set_luma(p, pl, px, py, 235);
          }
      }
  }
}

static const char* fourcc_name(uint32_t f) {
  return f == V4L2_PIX_FMT_YUYV ? "YUYV" : f == V4L2_PIX_FMT_NV12 ? "NV12" : "YU12";
}

static void draw_bars(const struct pattern* p, const struct planes* pl, int band, uint64_t seq);
static void draw_overlay(const struct pattern* p, const struct planes* pl, int band, uint64_t seq,
                         uint64_t capture_us);

void pattern_draw(const struct pattern* p, uint8_t* buf, uint64_t seq, uint64_t capture_us) {
  struct planes pl = planes_of(p, buf);
  int band = stamp_band_rows(p->h);
  if (p->scene) {
    scene_draw(p->scene, &pl, band, seq);
  } else {
    draw_bars(p, &pl, band, seq);
  }
  draw_overlay(p, &pl, band, seq, capture_us);
}

static void draw_bars(const struct pattern* p, const struct planes* pl, int band, uint64_t seq) {
  /* bars scroll one screen width every 4 seconds */
  int speed = p->w / (4 * (p->fps > 0 ? p->fps : 30));
  int off = (int)((seq * (uint64_t)(speed > 0 ? speed : 1)) % (uint64_t)p->w) & ~1;
  for (int y = band; y < p->h; y++) {
    if (p->fourcc == V4L2_PIX_FMT_YUYV)
      memcpy(pl->y + y * pl->ys, p->bar_y + 2 * off, (size_t)p->w * 2);
    else
      memcpy(pl->y + y * pl->ys, p->bar_y + off, (size_t)p->w);
  }
  if (p->fourcc == V4L2_PIX_FMT_NV12) {
    for (int cy = band / 2; cy < p->h / 2; cy++)
      memcpy(pl->u + cy * pl->cs, p->bar_u + off, (size_t)p->w);
  } else if (p->fourcc == V4L2_PIX_FMT_YUV420) {
    for (int cy = band / 2; cy < p->h / 2; cy++) {
      memcpy(pl->u + cy * pl->cs, p->bar_u + off / 2, (size_t)p->w / 2);
      memcpy(pl->v + cy * pl->cs, p->bar_v + off / 2, (size_t)p->w / 2);
    }
  }
}

/* The stamp band and the text boxes, the same on every scene. */
static void draw_overlay(const struct pattern* p, const struct planes* pl, int band, uint64_t seq,
                         uint64_t capture_us) {
  /* the stamp band: 64 cells, MSB first, then black to the right edge */
  uint64_t word = stamp_word(capture_us);
  int cell = p->w / 64;
  for (int i = 0; i < 64; i++)
    fill_rect(p, pl, i * cell, 0, (i + 1) * cell, band, (word >> (63 - i) & 1) ? 235 : 16);
  fill_rect(p, pl, 64 * cell, 0, p->w, band, 16);
  /* text */
  int s = p->h / 180 > 1 ? p->h / 180 : 2;
  time_t secs = (time_t)(capture_us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char line[64];
  int x = 8 * s, y = band + 6 * s;
  snprintf(line, sizeof(line), "%02d:%02d:%02d.%03u UTC", tm.tm_hour, tm.tm_min, tm.tm_sec,
           (unsigned)(capture_us / 1000 % 1000));
  draw_text(p, pl, x, y, s, line);
  snprintf(line, sizeof(line), "#%07llu", (unsigned long long)seq);
  draw_text(p, pl, x, y + 11 * s, s, line);
  snprintf(line, sizeof(line), "%dX%d %s %dFPS", p->w, p->h, fourcc_name(p->fourcc), p->fps);
  draw_text(p, pl, x, y + 22 * s, s, line);
}
