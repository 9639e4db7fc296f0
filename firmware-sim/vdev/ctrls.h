/* A small control framework after v4l2-ctrls.c: integer, boolean, menu,
 * button and control-class controls, with the ioctls that reach them. */
#ifndef CAMGW_CTRLS_H
#define CAMGW_CTRLS_H

#include <stdint.h>

#include "vdev.h"

#define VCTRL_MAX 24

struct vctrl_def {
  uint32_t id;
  uint32_t type;
  const char* name;
  int64_t min, max, step, def;
  uint64_t menu_skip; /* bit i: menu item i not supported */
  const char* const* menu;
  uint32_t flags;
};

struct vctrls {
  const struct vctrl_def* defs;
  int n;
  int64_t val[VCTRL_MAX];
  /* called (device lock held) after a control changed through S_CTRL/S_EXT_CTRLS */
  void (*changed)(void* owner, uint32_t id, int64_t val);
  void* owner;
};

void ctrls_init(struct vctrls* c, const struct vctrl_def* defs, int n);
int64_t ctrls_get(const struct vctrls* c, uint32_t id);
/* handles QUERYCTRL...TRY_EXT_CTRLS; *handled=0 for other requests */
int ctrls_ioctl(struct vctrls* c, struct vfile* f, unsigned long req, void* arg, int* handled);

int ctrls_initial_event(struct vctrls* c, uint32_t id, struct v4l2_event* e);

#endif
