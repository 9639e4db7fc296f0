/* Controls (see ctrls.h). Semantics follow v4l2-ctrls-api.c: integers are
 * clamped and rounded to the step, menus reject unsupported items with
 * EINVAL, buttons are write-only, the class control is read/write-only and
 * marks the start of its class; error_idx is the failing index for G/TRY and
 * count for a failed S. */
#define _GNU_SOURCE
#include "ctrls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void ctrls_init(struct vctrls* c, const struct vctrl_def* defs, int n) {
  memset(c, 0, sizeof(*c));
  c->defs = defs;
  c->n = n;
  for (int i = 0; i < n; i++) c->val[i] = defs[i].def;
}

static int find(const struct vctrls* c, uint32_t id) {
  for (int i = 0; c && i < c->n; i++)
    if (c->defs[i].id == id) return i;
  return -1;
}

int64_t ctrls_get(const struct vctrls* c, uint32_t id) {
  int i = find(c, id);
  return i < 0 ? 0 : c->val[i];
}

static uint32_t base_flags(const struct vctrl_def* d) {
  uint32_t fl = d->flags;
  if (d->type == V4L2_CTRL_TYPE_CTRL_CLASS)
    fl |= V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_WRITE_ONLY;
  if (d->type == V4L2_CTRL_TYPE_BUTTON)
    fl |= V4L2_CTRL_FLAG_WRITE_ONLY | V4L2_CTRL_FLAG_EXECUTE_ON_WRITE;
  return fl;
}

/* Index of the control QUERYCTRL should answer for id (with NEXT flags), or -1. */
static int lookup_query(const struct vctrls* c, uint32_t id) {
  if (!(id & (V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND))) return find(c, id);
  uint32_t base = id & ~(V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);
  if (!(id & V4L2_CTRL_FLAG_NEXT_CTRL)) return -1; /* we have no compound controls */
  int best = -1;
  for (int i = 0; c && i < c->n; i++)
    if (c->defs[i].id > base && (best < 0 || c->defs[i].id < c->defs[best].id)) best = i;
  return best;
}

static void fill_ext(const struct vctrls* c, int i, struct v4l2_query_ext_ctrl* q) {
  const struct vctrl_def* d = &c->defs[i];
  memset(q, 0, sizeof(*q));
  q->id = d->id;
  q->type = d->type;
  snprintf(q->name, sizeof(q->name), "%s", d->name);
  q->minimum = d->min;
  q->maximum = d->max;
  q->step = (uint64_t)d->step;
  q->default_value = d->def;
  q->flags = base_flags(d);
  q->elem_size = d->type == V4L2_CTRL_TYPE_INTEGER64 ? 8 : 4;
  q->elems = 1;
  q->nr_of_dims = 0;
}

static int validate(const struct vctrl_def* d, int64_t* v) {
  switch (d->type) {
    case V4L2_CTRL_TYPE_INTEGER:
    case V4L2_CTRL_TYPE_INTEGER64: {
      int64_t x = *v;
      if (x < d->min) x = d->min;
      if (x > d->max) x = d->max;
      if (d->step > 1) x = d->min + ((x - d->min) + d->step / 2) / d->step * d->step;
      if (x > d->max) x -= d->step;
      *v = x;
      return 0;
    }
    case V4L2_CTRL_TYPE_BOOLEAN:
      *v = !!*v;
      return 0;
    case V4L2_CTRL_TYPE_MENU:
      if (*v < d->min || *v > d->max) return ERANGE;
      if (d->menu_skip >> *v & 1) return EINVAL;
      return 0;
    case V4L2_CTRL_TYPE_BUTTON:
      *v = 0;
      return 0;
    default:
      return EACCES;
  }
}

static int set_one(struct vctrls* c, int i, int64_t v) {
  if (c->defs[i].type == V4L2_CTRL_TYPE_BUTTON || c->val[i] != v) {
    c->val[i] = v;
    if (c->changed) c->changed(c->owner, c->defs[i].id, v);
  }
  return 0;
}

static int ext_ctrls(struct vctrls* c, unsigned long req, struct v4l2_ext_controls* cs) {
  int get = req == VIDIOC_G_EXT_CTRLS, set = req == VIDIOC_S_EXT_CTRLS;
  cs->error_idx = cs->count;
  if (cs->which == V4L2_CTRL_WHICH_REQUEST_VAL) return EINVAL; /* no request API */
  if (cs->count && !cs->controls) return EFAULT;
  if (cs->which == V4L2_CTRL_WHICH_DEF_VAL && !get) return EINVAL;
  for (uint32_t k = 0; k < cs->count; k++) {
    struct v4l2_ext_control* x = &cs->controls[k];
    int i = find(c, x->id);
    if (i < 0 || (cs->which && cs->which != V4L2_CTRL_WHICH_DEF_VAL &&
                  V4L2_CTRL_ID2WHICH(x->id) != cs->which)) {
      cs->error_idx = get || set ? cs->count : k;
      return EINVAL;
    }
    uint32_t fl = base_flags(&c->defs[i]);
    if (get && (fl & V4L2_CTRL_FLAG_WRITE_ONLY) && cs->which != V4L2_CTRL_WHICH_DEF_VAL) {
      cs->error_idx = cs->count;
      return EACCES;
    }
    if (!get && (fl & V4L2_CTRL_FLAG_READ_ONLY)) {
      cs->error_idx = set ? cs->count : k;
      return EACCES;
    }
    if (!get) {
      int64_t v = c->defs[i].type == V4L2_CTRL_TYPE_INTEGER64 ? x->value64 : x->value;
      int err = validate(&c->defs[i], &v);
      if (err) {
        cs->error_idx = set ? cs->count : k;
        return err;
      }
    }
  }
  for (uint32_t k = 0; k < cs->count; k++) {
    struct v4l2_ext_control* x = &cs->controls[k];
    int i = find(c, x->id);
    if (get) {
      int64_t v = cs->which == V4L2_CTRL_WHICH_DEF_VAL ? c->defs[i].def : c->val[i];
      if (c->defs[i].type == V4L2_CTRL_TYPE_INTEGER64)
        x->value64 = v;
      else
        x->value = (int32_t)v;
    } else {
      int64_t v = c->defs[i].type == V4L2_CTRL_TYPE_INTEGER64 ? x->value64 : x->value;
      validate(&c->defs[i], &v);
      if (c->defs[i].type == V4L2_CTRL_TYPE_INTEGER64)
        x->value64 = v;
      else
        x->value = (int32_t)v;
      if (set) set_one(c, i, v);
    }
  }
  cs->error_idx = 0;
  return 0;
}

int ctrls_ioctl(struct vctrls* c, struct vfile* f, unsigned long req, void* arg, int* handled) {
  (void)f;
  *handled = 1;
  switch (req) {
    case VIDIOC_QUERYCTRL: {
      struct v4l2_queryctrl* q = arg;
      int i = lookup_query(c, q->id);
      if (i < 0) return EINVAL;
      struct v4l2_query_ext_ctrl x;
      fill_ext(c, i, &x);
      memset(q, 0, sizeof(*q));
      q->id = x.id;
      q->type = x.type;
      snprintf((char*)q->name, sizeof(q->name), "%s", x.name);
      q->minimum = (int32_t)x.minimum;
      q->maximum = (int32_t)x.maximum;
      q->step = (int32_t)x.step;
      q->default_value = (int32_t)x.default_value;
      q->flags = x.flags;
      return 0;
    }
    case VIDIOC_QUERY_EXT_CTRL: {
      struct v4l2_query_ext_ctrl* q = arg;
      int i = lookup_query(c, q->id);
      if (i < 0) return EINVAL;
      fill_ext(c, i, q);
      return 0;
    }
    case VIDIOC_QUERYMENU: {
      struct v4l2_querymenu* m = arg;
      int i = find(c, m->id);
      if (i < 0 || c->defs[i].type != V4L2_CTRL_TYPE_MENU) return EINVAL;
      const struct vctrl_def* d = &c->defs[i];
      if ((int64_t)m->index < d->min || (int64_t)m->index > d->max ||
          (d->menu_skip >> m->index & 1))
        return EINVAL;
      memset(m->name, 0, sizeof(m->name));
      snprintf((char*)m->name, sizeof(m->name), "%s", d->menu[m->index]);
      m->reserved = 0;
      return 0;
    }
    case VIDIOC_G_CTRL: {
      struct v4l2_control* x = arg;
      int i = find(c, x->id);
      if (i < 0) return EINVAL;
      if (base_flags(&c->defs[i]) & V4L2_CTRL_FLAG_WRITE_ONLY) return EACCES;
      x->value = (int32_t)c->val[i];
      return 0;
    }
    case VIDIOC_S_CTRL: {
      struct v4l2_control* x = arg;
      int i = find(c, x->id);
      if (i < 0) return EINVAL;
      if (base_flags(&c->defs[i]) & V4L2_CTRL_FLAG_READ_ONLY) return EACCES;
      int64_t v = x->value;
      int err = validate(&c->defs[i], &v);
      if (err) return err;
      x->value = (int32_t)v;
      return set_one(c, i, v);
    }
    case VIDIOC_G_EXT_CTRLS:
    case VIDIOC_S_EXT_CTRLS:
    case VIDIOC_TRY_EXT_CTRLS:
      if (!c) {
        struct v4l2_ext_controls* cs = arg;
        cs->error_idx = req == VIDIOC_TRY_EXT_CTRLS && cs->count ? 0 : cs->count;
        return cs->count ? EINVAL : 0;
      }
      return ext_ctrls(c, req, arg);
    default:
      *handled = 0;
      return ENOTTY;
  }
}

int ctrls_initial_event(struct vctrls* c, uint32_t id, struct v4l2_event* e) {
  int i = find(c, id);
  if (i < 0) return EINVAL;
  memset(e, 0, sizeof(*e));
  e->type = V4L2_EVENT_CTRL;
  e->id = id;
  e->u.ctrl.changes = V4L2_EVENT_CTRL_CH_FLAGS;
  e->u.ctrl.type = c->defs[i].type;
  e->u.ctrl.flags = base_flags(&c->defs[i]);
  if (!(e->u.ctrl.flags & V4L2_CTRL_FLAG_WRITE_ONLY)) {
    e->u.ctrl.changes |= V4L2_EVENT_CTRL_CH_VALUE;
    e->u.ctrl.value64 = c->val[i];
  }
  e->u.ctrl.minimum = (int32_t)c->defs[i].min;
  e->u.ctrl.maximum = (int32_t)c->defs[i].max;
  e->u.ctrl.step = (int32_t)c->defs[i].step;
  e->u.ctrl.default_value = (int32_t)c->defs[i].def;
  return 0;
}
