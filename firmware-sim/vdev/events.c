/* V4L2 events per open file (v4l2-event.c): subscriptions, a bounded queue
 * (the oldest event is dropped when full, as v4l2_event_queue_fh does),
 * V4L2_EVENT_SUB_FL_SEND_INITIAL for control events. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <time.h>

#include "vdev.h"

int ev_subscribed(struct vfile* f, uint32_t type, uint32_t id) {
  for (int i = 0; i < f->nsubs; i++)
    if (f->subs[i].type == type && (type != V4L2_EVENT_CTRL || f->subs[i].id == id)) return 1;
  return 0;
}

void ev_queue(struct vfile* f, const struct v4l2_event* e) {
  if (!ev_subscribed(f, e->type, e->id)) return;
  if (f->ev_len == VDEV_MAX_EVENTS) {
    f->ev_head = (f->ev_head + 1) % VDEV_MAX_EVENTS;
    f->ev_len--;
  }
  struct v4l2_event* slot = &f->events[(f->ev_head + f->ev_len) % VDEV_MAX_EVENTS];
  *slot = *e;
  slot->sequence = f->ev_seq++;
  clock_gettime(CLOCK_MONOTONIC, &slot->timestamp);
  f->ev_len++;
  vfile_update_level(f);
}

int ctrl_initial_event(struct vfile* f, uint32_t id, struct v4l2_event* e); /* ctrls.c */

int ev_subscribe(struct vfile* f, struct v4l2_event_subscription* s) {
  switch (s->type) {
    case V4L2_EVENT_EOS:
      if (f->dev->kind != VDEV_ENCODER) return EINVAL;
      break;
    case V4L2_EVENT_CTRL:
      break;
    default:
      return EINVAL;
  }
  if (ev_subscribed(f, s->type, s->id)) return 0;
  if (f->nsubs == VDEV_MAX_SUBS) return ENOMEM;
  struct v4l2_event init;
  if (s->type == V4L2_EVENT_CTRL && ctrl_initial_event(f, s->id, &init) != 0) return EINVAL;
  f->subs[f->nsubs++] = (struct vsub){s->type, s->type == V4L2_EVENT_CTRL ? s->id : 0, s->flags};
  /* v4l2_ctrl_add_event(): an initial event for every control but a class */
  if (s->type == V4L2_EVENT_CTRL && (s->flags & V4L2_EVENT_SUB_FL_SEND_INITIAL) &&
      init.u.ctrl.type != V4L2_CTRL_TYPE_CTRL_CLASS)
    ev_queue(f, &init);
  return 0;
}

int ev_unsubscribe(struct vfile* f, struct v4l2_event_subscription* s) {
  if (s->type == V4L2_EVENT_ALL) {
    f->nsubs = 0;
    f->ev_len = 0;
    vfile_update_level(f);
    return 0;
  }
  for (int i = 0; i < f->nsubs; i++) {
    if (f->subs[i].type == s->type && (s->type != V4L2_EVENT_CTRL || f->subs[i].id == s->id)) {
      f->subs[i] = f->subs[--f->nsubs];
      return 0;
    }
  }
  return 0;
}

int ev_dequeue(struct vfile* f, struct v4l2_event* e) {
  if (!f->ev_len) return ENOENT;
  *e = f->events[f->ev_head];
  f->ev_head = (f->ev_head + 1) % VDEV_MAX_EVENTS;
  f->ev_len--;
  e->pending = f->ev_len;
  vfile_update_level(f);
  return 0;
}
