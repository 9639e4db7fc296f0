/* hw_params refinement: what SNDRV_PCM_IOCTL_HW_REFINE and HW_PARAMS do in
 * the kernel's PCM core (pcm_native.c, pcm_lib.c), written for this card.
 *
 * A parameter space is three masks (access, format, subformat) and twelve
 * intervals (sample/frame bits, channels, rate, period and buffer in time,
 * frames and bytes, periods). Refinement intersects the space with what the
 * hardware offers, then applies the core's relations between parameters
 * (frame_bits = sample_bits * channels, period_bytes = period_size *
 * frame_bits / 8, period_time = period_size * 10^6 / rate, ...) until nothing
 * narrows any more. alsa-lib (pcm_params.c) drives the negotiation by
 * narrowing one parameter at a time and asking again, so these relations and
 * the interval arithmetic (open ends, integer intervals, rounding outwards)
 * must behave as the kernel's or `plughw` and `*_near()` choose differently. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "snd.h"

#define MASK_IDX(p) ((p)-SNDRV_PCM_HW_PARAM_FIRST_MASK)
#define IV_IDX(p) ((p)-SNDRV_PCM_HW_PARAM_FIRST_INTERVAL)

static struct snd_interval* iv(struct snd_pcm_hw_params* p, int param) {
  return &p->intervals[IV_IDX(param)];
}

static struct snd_mask* mask(struct snd_pcm_hw_params* p, int param) {
  return &p->masks[MASK_IDX(param)];
}

/* ---- intervals ---- */

static int iv_checkempty(const struct snd_interval* i) {
  return i->min > i->max || (i->min == i->max && (i->openmin || i->openmax));
}

static int iv_single(const struct snd_interval* i) {
  return i->min == i->max || (i->min + 1 == i->max && (i->openmin || i->openmax));
}

/* Intersect i with v. Returns 1 when i changed, 0 when not, -EINVAL when empty. */
static int iv_refine(struct snd_interval* i, const struct snd_interval* v) {
  if (i->empty) return -EINVAL;
  int changed = 0;
  if (i->min < v->min || (i->min == v->min && !i->openmin && v->openmin)) {
    i->min = v->min;
    i->openmin = v->openmin;
    changed = 1;
  }
  if (i->max > v->max || (i->max == v->max && !i->openmax && v->openmax)) {
    i->max = v->max;
    i->openmax = v->openmax;
    changed = 1;
  }
  if (v->integer && !i->integer) {
    i->integer = 1;
    changed = 1;
  }
  if (i->integer) { /* an integer interval has closed ends */
    if (i->openmin) {
      i->min++;
      i->openmin = 0;
    }
    if (i->openmax && i->max > 0) {
      i->max--;
      i->openmax = 0;
    }
  } else if (!i->openmin && !i->openmax && i->min == i->max) {
    i->integer = 1;
  }
  if (iv_checkempty(i)) {
    i->empty = 1;
    return -EINVAL;
  }
  return changed;
}

static int iv_refine_range(struct snd_interval* i, unsigned min, unsigned max, int integer) {
  struct snd_interval v = {.min = min, .max = max, .integer = (unsigned)integer};
  return iv_refine(i, &v);
}

/* a * b / c with the remainder; saturates at UINT_MAX (and so does c == 0) */
static unsigned muldiv(unsigned a, unsigned b, unsigned c, unsigned* rem) {
  uint64_t n = (uint64_t)a * b;
  if (c == 0 || n / c >= UINT_MAX) {
    *rem = 0;
    return UINT_MAX;
  }
  *rem = (unsigned)(n % c);
  return (unsigned)(n / c);
}

/* The smallest interval holding a * b for every a, b in the operands. */
static struct snd_interval iv_mul(const struct snd_interval* a, const struct snd_interval* b) {
  struct snd_interval c = {0};
  unsigned r;
  c.min = muldiv(a->min, b->min, 1, &r);
  c.max = muldiv(a->max, b->max, 1, &r);
  c.openmin = a->openmin || b->openmin;
  c.openmax = a->openmax || b->openmax;
  c.integer = a->integer && b->integer;
  return c;
}

/* a * k / b (b = NULL: a * k / kb) rounded outwards: a remainder opens the end. */
static struct snd_interval iv_mulkdiv(const struct snd_interval* a, unsigned k,
                                      const struct snd_interval* b) {
  struct snd_interval c = {0};
  unsigned r;
  c.min = muldiv(a->min, k, b->max, &r);
  c.openmin = r || a->openmin || b->openmax;
  if (b->min > 0) {
    c.max = muldiv(a->max, k, b->min, &r);
    if (r) {
      c.max++;
      c.openmax = 1;
    } else {
      c.openmax = a->openmax || b->openmin;
    }
  } else {
    c.max = UINT_MAX;
  }
  return c;
}

/* a / b */
static struct snd_interval iv_div(const struct snd_interval* a, const struct snd_interval* b) {
  return iv_mulkdiv(a, 1, b);
}

/* a * b / k */
static struct snd_interval iv_muldivk(const struct snd_interval* a, const struct snd_interval* b,
                                      unsigned k) {
  struct snd_interval c = {0};
  unsigned r;
  c.min = muldiv(a->min, b->min, k, &r);
  c.openmin = r || a->openmin || b->openmin;
  c.max = muldiv(a->max, b->max, k, &r);
  if (r) {
    c.max++;
    c.openmax = 1;
  } else {
    c.openmax = a->openmax || b->openmax;
  }
  return c;
}

/* ---- masks ---- */

static int mask_empty(const struct snd_mask* m) {
  for (int i = 0; i < (int)(sizeof(m->bits) / sizeof(m->bits[0])); i++)
    if (m->bits[i]) return 0;
  return 1;
}

/* Keep only the bits of `allowed` (the low 64). 1 when changed, -EINVAL when empty. */
static int mask_refine(struct snd_mask* m, uint64_t allowed) {
  struct snd_mask old = *m;
  m->bits[0] &= (uint32_t)allowed;
  m->bits[1] &= (uint32_t)(allowed >> 32);
  for (int i = 2; i < (int)(sizeof(m->bits) / sizeof(m->bits[0])); i++) m->bits[i] = 0;
  if (mask_empty(m)) return -EINVAL;
  return memcmp(&old, m, sizeof(old)) != 0;
}

static uint64_t mask_bits64(const struct snd_mask* m) {
  return (uint64_t)m->bits[0] | (uint64_t)m->bits[1] << 32;
}

/* Physical width in bits of the linear formats a USB card can offer. */
static unsigned format_width(int fmt) {
  switch (fmt) {
    case SNDRV_PCM_FORMAT_S8:
    case SNDRV_PCM_FORMAT_U8:
      return 8;
    case SNDRV_PCM_FORMAT_S16_LE:
    case SNDRV_PCM_FORMAT_S16_BE:
    case SNDRV_PCM_FORMAT_U16_LE:
    case SNDRV_PCM_FORMAT_U16_BE:
      return 16;
    case SNDRV_PCM_FORMAT_S24_3LE:
    case SNDRV_PCM_FORMAT_S24_3BE:
      return 24;
    case SNDRV_PCM_FORMAT_S24_LE:
    case SNDRV_PCM_FORMAT_S24_BE:
    case SNDRV_PCM_FORMAT_S32_LE:
    case SNDRV_PCM_FORMAT_S32_BE:
    case SNDRV_PCM_FORMAT_FLOAT_LE:
      return 32;
    default:
      return 0;
  }
}

/* ---- the core's relations ---- */

enum { K_BYTES = 8, K_USEC = 1000000 };

/* Refine `param` with one relation; returns 1 when it narrowed. */
static int apply_rule(struct snd_pcm_hw_params* p, int rule) {
#define I(x) iv(p, SNDRV_PCM_HW_PARAM_##x)
  struct snd_interval t;
  int target;
  switch (rule) {
    case 0: { /* format <- sample_bits */
      struct snd_mask* m = mask(p, SNDRV_PCM_HW_PARAM_FORMAT);
      uint64_t keep = 0, bits = mask_bits64(m);
      const struct snd_interval* sb = I(SAMPLE_BITS);
      for (int k = 0; k < 64; k++) {
        unsigned w = format_width(k);
        if (!((bits >> k) & 1) || !w) continue;
        if (w > sb->min || (w == sb->min && !sb->openmin))
          if (w < sb->max || (w == sb->max && !sb->openmax)) keep |= 1ull << k;
      }
      return mask_refine(m, keep);
    }
    case 1: { /* sample_bits <- format */
      uint64_t bits = mask_bits64(mask(p, SNDRV_PCM_HW_PARAM_FORMAT));
      unsigned lo = UINT_MAX, hi = 0;
      for (int k = 0; k < 64; k++) {
        unsigned w = format_width(k);
        if (((bits >> k) & 1) && w) {
          if (w < lo) lo = w;
          if (w > hi) hi = w;
        }
      }
      if (lo > hi) return -EINVAL;
      return iv_refine_range(I(SAMPLE_BITS), lo, hi, 1);
    }
    case 2:
      target = SNDRV_PCM_HW_PARAM_SAMPLE_BITS;
      t = iv_div(I(FRAME_BITS), I(CHANNELS));
      break;
    case 3:
      target = SNDRV_PCM_HW_PARAM_FRAME_BITS;
      t = iv_mul(I(SAMPLE_BITS), I(CHANNELS));
      break;
    case 4:
      target = SNDRV_PCM_HW_PARAM_FRAME_BITS;
      t = iv_mulkdiv(I(PERIOD_BYTES), K_BYTES, I(PERIOD_SIZE));
      break;
    case 5:
      target = SNDRV_PCM_HW_PARAM_FRAME_BITS;
      t = iv_mulkdiv(I(BUFFER_BYTES), K_BYTES, I(BUFFER_SIZE));
      break;
    case 6:
      target = SNDRV_PCM_HW_PARAM_CHANNELS;
      t = iv_div(I(FRAME_BITS), I(SAMPLE_BITS));
      break;
    case 7:
      target = SNDRV_PCM_HW_PARAM_RATE;
      t = iv_mulkdiv(I(PERIOD_SIZE), K_USEC, I(PERIOD_TIME));
      break;
    case 8:
      target = SNDRV_PCM_HW_PARAM_RATE;
      t = iv_mulkdiv(I(BUFFER_SIZE), K_USEC, I(BUFFER_TIME));
      break;
    case 9:
      target = SNDRV_PCM_HW_PARAM_PERIODS;
      t = iv_div(I(BUFFER_SIZE), I(PERIOD_SIZE));
      break;
    case 10:
      target = SNDRV_PCM_HW_PARAM_PERIOD_SIZE;
      t = iv_div(I(BUFFER_SIZE), I(PERIODS));
      break;
    case 11:
      target = SNDRV_PCM_HW_PARAM_PERIOD_SIZE;
      t = iv_mulkdiv(I(PERIOD_BYTES), K_BYTES, I(FRAME_BITS));
      break;
    case 12:
      target = SNDRV_PCM_HW_PARAM_PERIOD_SIZE;
      t = iv_muldivk(I(PERIOD_TIME), I(RATE), K_USEC);
      break;
    case 13:
      target = SNDRV_PCM_HW_PARAM_BUFFER_SIZE;
      t = iv_mul(I(PERIOD_SIZE), I(PERIODS));
      break;
    case 14:
      target = SNDRV_PCM_HW_PARAM_BUFFER_SIZE;
      t = iv_mulkdiv(I(BUFFER_BYTES), K_BYTES, I(FRAME_BITS));
      break;
    case 15:
      target = SNDRV_PCM_HW_PARAM_BUFFER_SIZE;
      t = iv_muldivk(I(BUFFER_TIME), I(RATE), K_USEC);
      break;
    case 16:
      target = SNDRV_PCM_HW_PARAM_PERIOD_BYTES;
      t = iv_muldivk(I(PERIOD_SIZE), I(FRAME_BITS), K_BYTES);
      break;
    case 17:
      target = SNDRV_PCM_HW_PARAM_BUFFER_BYTES;
      t = iv_muldivk(I(BUFFER_SIZE), I(FRAME_BITS), K_BYTES);
      break;
    case 18:
      target = SNDRV_PCM_HW_PARAM_PERIOD_TIME;
      t = iv_mulkdiv(I(PERIOD_SIZE), K_USEC, I(RATE));
      break;
    case 19:
      target = SNDRV_PCM_HW_PARAM_BUFFER_TIME;
      t = iv_mulkdiv(I(BUFFER_SIZE), K_USEC, I(RATE));
      break;
    default:
      return 0;
  }
#undef I
  return iv_refine(iv(p, target), &t);
}

#define NRULES 20

/* The hardware's own limits (snd_pcm_hw_constraints_complete + the driver's). */
static int apply_limits(const struct vsnd_limits* l, struct snd_pcm_hw_params* p) {
  int c = 0, r;
#define STEP(expr)       \
  do {                   \
    r = (expr);          \
    if (r < 0) return r; \
    c |= r;              \
  } while (0)
  STEP(mask_refine(mask(p, SNDRV_PCM_HW_PARAM_ACCESS), l->access_mask));
  STEP(mask_refine(mask(p, SNDRV_PCM_HW_PARAM_FORMAT), l->format_mask));
  STEP(mask_refine(mask(p, SNDRV_PCM_HW_PARAM_SUBFORMAT), 1u << SNDRV_PCM_SUBFORMAT_STD));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_CHANNELS), l->channels_min, l->channels_max, 1));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_RATE), l->rate_min, l->rate_max, 0));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_PERIOD_BYTES), l->period_bytes_min,
                       l->period_bytes_max, 0));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_PERIODS), l->periods_min, l->periods_max, 0));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_BUFFER_BYTES), l->period_bytes_min,
                       l->buffer_bytes_max, 1));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_PERIOD_TIME), l->period_time_min, UINT_MAX, 0));
  /* integer by nature (snd_pcm_hw_constraints_init) */
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_SAMPLE_BITS), 0, UINT_MAX, 1));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_FRAME_BITS), 0, UINT_MAX, 1));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_BUFFER_SIZE), 0, UINT_MAX, 1));
  STEP(iv_refine_range(iv(p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE), 0, UINT_MAX, 1));
#undef STEP
  return c;
}

/* cmask: the parameters this refinement changed */
static unsigned changed_mask(const struct snd_pcm_hw_params* a, const struct snd_pcm_hw_params* b) {
  unsigned m = 0;
  for (int k = SNDRV_PCM_HW_PARAM_FIRST_MASK; k <= SNDRV_PCM_HW_PARAM_LAST_MASK; k++)
    if (memcmp(&a->masks[MASK_IDX(k)], &b->masks[MASK_IDX(k)], sizeof(struct snd_mask)))
      m |= 1u << k;
  for (int k = SNDRV_PCM_HW_PARAM_FIRST_INTERVAL; k <= SNDRV_PCM_HW_PARAM_LAST_INTERVAL; k++)
    if (memcmp(&a->intervals[IV_IDX(k)], &b->intervals[IV_IDX(k)], sizeof(struct snd_interval)))
      m |= 1u << k;
  return m;
}

int vsnd_params_refine(const struct vsnd_limits* l, struct snd_pcm_hw_params* p) {
  const struct snd_pcm_hw_params before = *p;
  p->info = 0;
  p->fifo_size = 0;
  if (p->rmask & (1u << SNDRV_PCM_HW_PARAM_SAMPLE_BITS)) p->msbits = 0;
  if (p->rmask & (1u << SNDRV_PCM_HW_PARAM_RATE)) p->rate_num = p->rate_den = 0;
  for (int k = 0; k <= IV_IDX(SNDRV_PCM_HW_PARAM_LAST_INTERVAL); k++)
    if (p->intervals[k].empty || iv_checkempty(&p->intervals[k])) return EINVAL;
  if (apply_limits(l, p) < 0) return EINVAL;
  /* Relations to a fixed point: every step only narrows, so this ends. */
  for (int pass = 0; pass < 1000; pass++) {
    int again = 0;
    for (int r = 0; r < NRULES; r++) {
      int c = apply_rule(p, r);
      if (c < 0) return EINVAL;
      again |= c;
    }
    if (!again) break;
  }
  const struct snd_interval* sb = iv(p, SNDRV_PCM_HW_PARAM_SAMPLE_BITS);
  if (!p->msbits && iv_single(sb)) p->msbits = sb->min;
  const struct snd_interval* rate = iv(p, SNDRV_PCM_HW_PARAM_RATE);
  if (!p->rate_den && iv_single(rate)) {
    p->rate_num = vsnd_params_value(p, SNDRV_PCM_HW_PARAM_RATE);
    p->rate_den = 1;
  }
  p->info = l->info;
  p->cmask |= changed_mask(&before, p);
  p->rmask = 0;
  return 0;
}

/* snd_pcm_hw_param_first/last on one parameter */
static void pick(struct snd_pcm_hw_params* p, int param, int last) {
  if (param <= SNDRV_PCM_HW_PARAM_LAST_MASK) {
    struct snd_mask* m = mask(p, param);
    uint64_t bits = mask_bits64(m);
    if (!bits) return;
    int k = last ? 63 - __builtin_clzll(bits) : __builtin_ctzll(bits);
    mask_refine(m, 1ull << k);
    return;
  }
  struct snd_interval* i = iv(p, param);
  if (iv_single(i)) return;
  if (last) {
    unsigned old = i->min;
    i->min = i->max - (i->openmax ? 1 : 0);
    i->openmin = i->openmin && i->min <= old;
  } else {
    unsigned old = i->max;
    i->max = i->min + (i->openmin ? 1 : 0);
    i->openmax = i->openmax && i->max >= old;
  }
}

int vsnd_params_choose(const struct vsnd_limits* l, struct snd_pcm_hw_params* p) {
  static const int order[] = {SNDRV_PCM_HW_PARAM_ACCESS,      SNDRV_PCM_HW_PARAM_FORMAT,
                              SNDRV_PCM_HW_PARAM_SUBFORMAT,   SNDRV_PCM_HW_PARAM_CHANNELS,
                              SNDRV_PCM_HW_PARAM_RATE,        SNDRV_PCM_HW_PARAM_PERIOD_TIME,
                              SNDRV_PCM_HW_PARAM_BUFFER_SIZE, SNDRV_PCM_HW_PARAM_TICK_TIME};
  p->rmask = ~0u;
  int err = vsnd_params_refine(l, p);
  for (size_t k = 0; !err && k < sizeof(order) / sizeof(order[0]); k++) {
    pick(p, order[k], order[k] == SNDRV_PCM_HW_PARAM_BUFFER_SIZE);
    p->rmask = ~0u;
    err = vsnd_params_refine(l, p);
  }
  return err;
}

unsigned vsnd_params_value(const struct snd_pcm_hw_params* p, int param) {
  if (param <= SNDRV_PCM_HW_PARAM_LAST_MASK) {
    uint64_t bits = mask_bits64(&p->masks[MASK_IDX(param)]);
    return bits ? (unsigned)__builtin_ctzll(bits) : 0;
  }
  const struct snd_interval* i = &p->intervals[IV_IDX(param)];
  return i->openmin && !i->openmax ? i->max : i->min;
}
