/* The realistic scene. A real camera's picture costs an encoder its whole
 * bitrate: fine detail in every I-frame, and in every P-frame motion that
 * does not line up with whole pixels plus sensor noise that no motion
 * vector predicts. The bars of pattern.c have none of that (x264 at 2 Mbit/s
 * spends ~0.5 Mbit/s on them), so this scene adds all three, cheaply:
 *
 * - A street, generated once per stream into a texture a margin larger than
 *   the frame, in the frame's own pixel format: sky with clouds, buildings
 *   with lit and dark windows, grass, a road with lane marks, and per-pixel
 *   grain (static detail).
 * - Motion: the camera sways (the texture window moves by a pixel or two
 *   every few frames, on two slow sine waves) and cars drive along the road
 *   at different speeds.
 * - Sensor noise: every row gets a window of a precomputed table of
 *   near-Gaussian noise (sd ~3.5 levels luma, half that chroma) at a position
 *   hashed from the frame and row numbers, so it changes every frame.
 *
 * Per frame that is one pass over the picture: each row is texture + noise
 * (16 bytes at a time) into the buffer, then a few rectangles per car. The
 * texture is kept inside [16 + NOISE_MAX, 235 - NOISE_MAX] so the addition
 * can never wrap. */
#define _GNU_SOURCE
#include "scene.h"

#include <linux/videodev2.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN_X 96 /* texture is this much wider than the frame (sway room), even */
#define MARGIN_Y 64
#define NOISE_SPAN 65536 /* noise table positions; a row reads NOISE_SPAN + its length */
#define NOISE_MAX 12     /* |noise| <= this, in luma levels */
#define CARS 4

struct car {
  int y, h, w;   /* scene rows and size */
  int x0, speed; /* scene column at frame 0, pixels per frame (negative: leftwards) */
  uint8_t luma, cb, cr;
};

struct scene {
  uint32_t fourcc;
  int w, h, fps;
  int tw, th;       /* texture size */
  uint8_t* tex;     /* texture in the frame's layout: luma (or packed YUYV), then chroma */
  uint8_t *tu, *tv; /* chroma planes of the texture (NV12: tu interleaved) */
  int tys, tcs;     /* texture strides */
  int8_t* noise_y;  /* YUYV: alternating luma and chroma amplitudes */
  int8_t* noise_c;  /* planar chroma */
  struct car cars[CARS];
};

/* A 32-bit integer hash (lowbias32, Chris Wellons' hash-prospector). */
static uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

static uint32_t hash2(uint32_t a, uint32_t b) { return hash32(a * 0x9e3779b1U ^ hash32(b)); }

/* A uniform value in [lo, hi] from a hash. */
static int pick(uint32_t h, int lo, int hi) { return lo + (int)(h % (uint32_t)(hi - lo + 1)); }

static uint8_t clampu8(int v, int lo, int hi) { return (uint8_t)(v < lo ? lo : v > hi ? hi : v); }

/* A smooth random curve, -1..1: a few sines of random phase and wavelength. */
static void smooth_curve(float* out, int n, uint32_t seed, float longest) {
  memset(out, 0, sizeof(float) * (size_t)n);
  float norm = 0;
  for (int k = 0; k < 4; k++) {
    float wave = longest / (float)(1 << k) * (0.7f + (float)(hash2(seed, k) % 600) / 1000.0f);
    float phase = (float)(hash2(seed, k + 10) % 6283) / 1000.0f;
    float amp = 1.0f / (float)(k + 1);
    norm += amp;
    for (int i = 0; i < n; i++) out[i] += amp * sinf(phase + 6.2831853f * (float)i / wave);
  }
  for (int i = 0; i < n; i++) out[i] /= norm;
}

/* The street, as luma at full and chroma at half resolution. */
static void paint_street(int tw, int th, uint8_t* lum, uint8_t* cb, uint8_t* cr) {
  int horizon = th * 30 / 100, ground = th * 56 / 100;
  int road0 = th * 70 / 100, road1 = th * 86 / 100;
  float* cx = malloc(sizeof(float) * (size_t)tw);
  float* cy = malloc(sizeof(float) * (size_t)th);
  float* gx = malloc(sizeof(float) * (size_t)tw);
  if (!cx || !cy || !gx) goto out;
  smooth_curve(cx, tw, 1, (float)tw / 2);
  smooth_curve(cy, th, 2, (float)th / 3);
  smooth_curve(gx, tw, 3, (float)tw / 5);
  for (int y = 0; y < th; y++) {
    uint8_t* row = lum + (size_t)y * (size_t)tw;
    for (int x = 0; x < tw; x++) {
      int v;
      uint32_t grain = hash2((uint32_t)x, (uint32_t)y);
      if (y < ground) {
        /* sky: brighter towards the horizon, with soft clouds */
        v = 150 + 40 * y / ground + (int)(30.0f * cx[x] * cy[y]);
        v += pick(grain, -3, 3);
      } else if (y >= road0 && y < road1) {
        /* road: asphalt grain, a dashed lane mark in the middle */
        int mid = (road0 + road1) / 2;
        int mark = y >= mid - 3 && y < mid + 3 && (x / 48) % 2 == 0;
        v = mark ? 205 : 96 + pick(grain, -10, 10);
      } else {
        /* grass: patches and blades */
        v = 92 + (int)(22.0f * gx[x] * cy[y]) + pick(grain, -18, 18);
      }
      row[x] = clampu8(v, 16 + NOISE_MAX, 235 - NOISE_MAX);
    }
  }
  for (int y = 0; y < th / 2; y++)
    for (int x = 0; x < tw / 2; x++) {
      int sy = 2 * y;
      size_t i = (size_t)y * (size_t)(tw / 2) + (size_t)x;
      if (sy < ground) {
        cb[i] = (uint8_t)(140 + (int)(6.0f * cx[2 * x]));
        cr[i] = 118;
      } else if (sy >= road0 && sy < road1) {
        cb[i] = cr[i] = 128;
      } else {
        cb[i] = (uint8_t)(108 + (int)(6.0f * gx[2 * x]));
        cr[i] = (uint8_t)(116 + (int)(5.0f * cy[sy]));
      }
    }
  /* buildings: boxes standing on the ground line, with a grid of windows */
  for (uint32_t b = 0, x = 0; x < (uint32_t)tw; b++) {
    uint32_t hb = hash2(100, b);
    int bw = pick(hb, tw / 24, tw / 8), top = pick(hash32(hb), horizon - th / 6, ground - th / 10);
    int body = pick(hash32(hb + 1), 70, 150);
    int tint_b = pick(hash32(hb + 2), 118, 138), tint_r = pick(hash32(hb + 3), 118, 140);
    int cell_w = 10 + (int)(hb % 8), cell_h = 14 + (int)(hb % 6);
    for (int y = top < 0 ? 0 : top; y < ground; y++)
      for (int px = (int)x; px < (int)x + bw && px < tw; px++) {
        int in_cell_x = (px - (int)x) % cell_w, in_cell_y = (y - top) % cell_h;
        int window =
            in_cell_x >= 3 && in_cell_x < cell_w - 2 && in_cell_y >= 4 && in_cell_y < cell_h - 3;
        int v = body + pick(hash2((uint32_t)px, (uint32_t)y), -6, 6);
        int lit = 0;
        if (px == (int)x || px == (int)x + bw - 1) v -= 30; /* edges */
        if (window) {
          uint32_t hw = hash2(b, (uint32_t)(((px - (int)x) / cell_w) * 977 + (y - top) / cell_h));
          lit = hw % 3 == 0;
          v = lit ? 205 : 40 + (int)(hw % 25);
        }
        lum[(size_t)y * (size_t)tw + (size_t)px] = clampu8(v, 16 + NOISE_MAX, 235 - NOISE_MAX);
        if (!(px & 1) && !(y & 1)) {
          size_t i = (size_t)(y / 2) * (size_t)(tw / 2) + (size_t)(px / 2);
          cb[i] = (uint8_t)(lit ? 104 : tint_b); /* lit windows are warm */
          cr[i] = (uint8_t)(lit ? 150 : tint_r);
        }
      }
    x += (uint32_t)bw + (uint32_t)pick(hash32(hb + 4), 0, tw / 40);
  }
out:
  free(cx);
  free(cy);
  free(gx);
}

/* Packs the street into the frame's pixel format. */
static void pack_texture(struct scene* s, const uint8_t* lum, const uint8_t* cb,
                         const uint8_t* cr) {
  int tw = s->tw, th = s->th, cw = tw / 2;
  for (int y = 0; y < th; y++) {
    const uint8_t* l = lum + (size_t)y * (size_t)tw;
    const uint8_t* u = cb + (size_t)(y / 2) * (size_t)cw;
    const uint8_t* v = cr + (size_t)(y / 2) * (size_t)cw;
    uint8_t* row = s->tex + (size_t)y * (size_t)s->tys;
    if (s->fourcc == V4L2_PIX_FMT_YUYV) {
      for (int x = 0; x < tw; x++) {
        row[2 * x] = l[x];
        row[2 * x + 1] = (x & 1) ? v[x / 2] : u[x / 2];
      }
    } else {
      memcpy(row, l, (size_t)tw);
    }
  }
  if (s->fourcc == V4L2_PIX_FMT_YUYV) return;
  for (int y = 0; y < th / 2; y++) {
    const uint8_t* u = cb + (size_t)y * (size_t)cw;
    const uint8_t* v = cr + (size_t)y * (size_t)cw;
    if (s->fourcc == V4L2_PIX_FMT_NV12) {
      uint8_t* row = s->tu + (size_t)y * (size_t)s->tcs;
      for (int x = 0; x < cw; x++) {
        row[2 * x] = u[x];
        row[2 * x + 1] = v[x];
      }
    } else {
      memcpy(s->tu + (size_t)y * (size_t)s->tcs, u, (size_t)cw);
      memcpy(s->tv + (size_t)y * (size_t)s->tcs, v, (size_t)cw);
    }
  }
}

/* Near-Gaussian noise: the sum of four uniform values in [-3, 3] (sd ~3.5, |n| <= 12). */
static int8_t noise_value(uint32_t i, int halve) {
  uint32_t h = hash32(i * 2654435761U + 12345);
  int n = 0;
  for (int k = 0; k < 4; k++) n += (int)((h >> (8 * k)) & 0xff) % 7 - 3;
  return (int8_t)(halve ? n / 2 : n);
}

static void place_cars(struct scene* s) {
  int road0 = s->th * 70 / 100, road1 = s->th * 86 / 100, lane = (road1 - road0) / 2;
  for (int i = 0; i < CARS; i++) {
    uint32_t h = hash2(200, (uint32_t)i);
    struct car* c = &s->cars[i];
    c->h = (lane * 7 / 10) & ~1;
    c->w = (c->h * pick(h, 20, 32) / 10) & ~1;
    /* two lanes: rightwards in the far one, leftwards in the near one */
    c->y = (i % 2 ? road0 + lane : road0) + (lane - c->h) / 2;
    c->speed = (pick(hash32(h), 2, 7) * (s->w >= 1280 ? 2 : 1)) * (i % 2 ? -1 : 1);
    c->x0 = pick(hash32(h + 1), 0, s->tw);
    c->luma = (uint8_t)pick(hash32(h + 2), 40, 200);
    c->cb = (uint8_t)pick(hash32(h + 3), 90, 166);
    c->cr = (uint8_t)pick(hash32(h + 4), 90, 166);
  }
}

struct scene* scene_create(uint32_t fourcc, int w, int h, int fps) {
  struct scene* s = calloc(1, sizeof(*s));
  if (!s) return NULL;
  s->fourcc = fourcc;
  s->w = w;
  s->h = h;
  s->fps = fps > 0 ? fps : 30;
  s->tw = w + MARGIN_X;
  s->th = h + MARGIN_Y;
  int cw = s->tw / 2, ch = s->th / 2;
  size_t luma_bytes, chroma_bytes = 0;
  if (fourcc == V4L2_PIX_FMT_YUYV) {
    s->tys = 2 * s->tw;
    luma_bytes = (size_t)s->tys * (size_t)s->th;
  } else {
    s->tys = s->tw;
    s->tcs = fourcc == V4L2_PIX_FMT_NV12 ? s->tw : cw;
    luma_bytes = (size_t)s->tys * (size_t)s->th;
    chroma_bytes = (size_t)s->tcs * (size_t)ch;
  }
  s->tex = malloc(luma_bytes + 2 * chroma_bytes);
  int longest_row = 2 * w;
  s->noise_y = malloc((size_t)(NOISE_SPAN + longest_row));
  s->noise_c = malloc((size_t)(NOISE_SPAN + longest_row));
  uint8_t* lum = malloc((size_t)s->tw * (size_t)s->th);
  uint8_t* cb = malloc((size_t)cw * (size_t)ch);
  uint8_t* cr = malloc((size_t)cw * (size_t)ch);
  if (!s->tex || !s->noise_y || !s->noise_c || !lum || !cb || !cr) {
    free(lum);
    free(cb);
    free(cr);
    scene_free(s);
    return NULL;
  }
  s->tu = s->tex + luma_bytes;
  s->tv = s->tu + chroma_bytes;
  paint_street(s->tw, s->th, lum, cb, cr);
  pack_texture(s, lum, cb, cr);
  free(lum);
  free(cb);
  free(cr);
  int yuyv = fourcc == V4L2_PIX_FMT_YUYV;
  for (uint32_t i = 0; i < (uint32_t)(NOISE_SPAN + longest_row); i++) {
    /* YUYV: even bytes are luma, odd bytes chroma (rows start at multiples of 4) */
    s->noise_y[i] = noise_value(i, yuyv && (i & 1));
    s->noise_c[i] = noise_value(i + 0x51ed, 1);
  }
  place_cars(s);
  return s;
}

void scene_free(struct scene* s) {
  if (!s) return;
  free(s->tex);
  free(s->noise_y);
  free(s->noise_c);
  free(s);
}

typedef uint8_t u8x16 __attribute__((vector_size(16)));

/* dst = src + noise, byte by byte (wrapping, which the texture's range rules out). */
static void add_noise_row(uint8_t* restrict dst, const uint8_t* restrict src,
                          const int8_t* restrict noise, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    u8x16 a, b;
    memcpy(&a, src + i, 16);
    memcpy(&b, noise + i, 16);
    a += b;
    memcpy(dst + i, &a, 16);
  }
  for (; i < n; i++) dst[i] = (uint8_t)(src[i] + (uint8_t)noise[i]);
}

/* Where row `y` of frame `seq` reads the noise table: a multiple of 4, so
 * YUYV's luma/chroma alternation lines up. */
static int noise_at(uint64_t seq, int y) {
  return (int)(hash2((uint32_t)seq, (uint32_t)y) % NOISE_SPAN) & ~3;
}

/* The camera's sway: where the frame's top left is in the texture, even. */
static void sway(const struct scene* s, uint64_t seq, int* ox, int* oy) {
  double t = (double)seq / s->fps;
  *ox = (int)((MARGIN_X / 2 - 2) * (1.0 + sin(t * 6.2831853 / 11.0))) & ~1;
  *oy = (int)((MARGIN_Y / 2 - 2) * (1.0 + sin(t * 6.2831853 / 7.0 + 1.0))) & ~1;
}

void scene_draw(const struct scene* s, const struct planes* pl, int y0, uint64_t seq) {
  int ox, oy;
  sway(s, seq, &ox, &oy);
  y0 &= ~1;
  for (int y = y0; y < s->h; y++) {
    const uint8_t* src = s->tex + (size_t)(y + oy) * (size_t)s->tys;
    const int8_t* noise = s->noise_y + noise_at(seq, y);
    if (s->fourcc == V4L2_PIX_FMT_YUYV)
      add_noise_row(pl->y + y * pl->ys, src + 2 * ox, noise, 2 * s->w);
    else
      add_noise_row(pl->y + y * pl->ys, src + ox, noise, s->w);
  }
  for (int cy = y0 / 2; cy < s->h / 2; cy++) {
    size_t trow = (size_t)(cy + oy / 2) * (size_t)s->tcs;
    const int8_t* noise = s->noise_c + noise_at(seq, -1 - cy);
    if (s->fourcc == V4L2_PIX_FMT_NV12) {
      add_noise_row(pl->u + cy * pl->cs, s->tu + trow + ox, noise, s->w);
    } else if (s->fourcc == V4L2_PIX_FMT_YUV420) {
      add_noise_row(pl->u + cy * pl->cs, s->tu + trow + ox / 2, noise, s->w / 2);
      add_noise_row(pl->v + cy * pl->cs, s->tv + trow + ox / 2, noise + s->w / 2, s->w / 2);
    }
  }
  /* the cars, in scene coordinates, wrapping round a road a car longer than the texture */
  for (int i = 0; i < CARS; i++) {
    const struct car* c = &s->cars[i];
    int lap = s->tw + c->w;
    int64_t pos = ((int64_t)c->x0 + (int64_t)c->speed * (int64_t)seq) % lap;
    if (pos < 0) pos += lap;
    /* even columns and rows (chroma pairs); the stamp band is drawn over them afterwards */
    int x = ((int)pos - c->w - ox) & ~1, y = (c->y - oy) & ~1;
    int half = (c->h / 2) & ~1, wheel = (c->h / 3) & ~1, wheel_y = y + ((c->h * 3 / 4) & ~1);
    int body0 = x, body1 = x + c->w;
    pattern_fill(s->fourcc, s->w, s->h, pl, body0, y, body1, y + c->h, c->luma, c->cb, c->cr);
    pattern_fill(s->fourcc, s->w, s->h, pl, x + ((c->w / 6) & ~1), y + 2, x + ((c->w * 5 / 6) & ~1),
                 y + half, 45, 130, 126); /* windows */
    pattern_fill(s->fourcc, s->w, s->h, pl, x + ((c->w / 8) & ~1), wheel_y,
                 x + ((c->w / 8) & ~1) + wheel, y + c->h, 20, 128, 128);
    pattern_fill(s->fourcc, s->w, s->h, pl, x + ((c->w * 7 / 8) & ~1) - wheel, wheel_y,
                 x + ((c->w * 7 / 8) & ~1), y + c->h, 20, 128, 128);
  }
}
