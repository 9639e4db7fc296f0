/* What the V4L2 core does for every driver (v4l2-ioctl.c, v4l2-fh.c,
 * v4l2-dev.c): priorities, events, releasing an open file, mmap dispatch. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/media.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "ctrls.h"
#include "real.h"
#include "snd.h"
#include "vdev.h"

extern atomic_int g_vfiles_open;
void epoll_forget(struct vfile* f);
struct vctrls* camera_ctrls(struct vfile* f);
struct vqueue* camera_queue(struct vfile* f);
struct vctrls* encoder_ctrls(struct vfile* f);
struct vqueue* encoder_queue_for_offset(struct vfile* f, uint64_t off);

static struct vctrls* file_ctrls(struct vfile* f) {
  if (f->dev->kind != VDEV_CAMERA && f->dev->kind != VDEV_ENCODER) return NULL;
  return f->dev->kind == VDEV_CAMERA ? camera_ctrls(f) : encoder_ctrls(f);
}

static struct vqueue* file_queue_for_offset(struct vfile* f, uint64_t off) {
  if (f->dev->kind != VDEV_CAMERA && f->dev->kind != VDEV_ENCODER) return NULL;
  return f->dev->kind == VDEV_CAMERA ? camera_queue(f) : encoder_queue_for_offset(f, off);
}

int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int64_t real_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int file_nonblock(struct vfile* f) { return (real.fcntl(f->evfd, F_GETFL) & O_NONBLOCK) != 0; }

static enum v4l2_priority max_prio(struct vdevice* d) {
  enum v4l2_priority m = V4L2_PRIORITY_UNSET;
  for (struct vfile* f = d->files; f; f = f->next)
    if (f->prio > m) m = f->prio;
  return m;
}

/* v4l2_prio_check(): a file may change state unless another holds a higher priority */
static int prio_ok(struct vfile* f) { return f->prio >= max_prio(f->dev); }

static int needs_prio(unsigned long req) {
  switch (req) {
    case VIDIOC_S_FMT:
    case VIDIOC_S_PARM:
    case VIDIOC_S_INPUT:
    case VIDIOC_S_CTRL:
    case VIDIOC_S_EXT_CTRLS:
    case VIDIOC_REQBUFS:
    case VIDIOC_CREATE_BUFS:
    case VIDIOC_STREAMON:
    case VIDIOC_STREAMOFF:
    case VIDIOC_ENCODER_CMD:
    case VIDIOC_S_SELECTION:
    case VIDIOC_S_PRIORITY:
      return 1;
    default:
      return 0;
  }
}

int ctrl_initial_event(struct vfile* f, uint32_t id, struct v4l2_event* e) {
  struct vctrls* c = file_ctrls(f);
  return c ? ctrls_initial_event(c, id, e) : EINVAL;
}

/* The ioctls some virtual device implements. Anything else is ENOTTY before
 * its argument is looked at, as for an ioctl the V4L2 core does not know. */
int known_ioctl(unsigned long req) {
  switch (req) {
    case VIDIOC_QUERYCAP:
    case VIDIOC_ENUM_FMT:
    case VIDIOC_ENUM_FRAMESIZES:
    case VIDIOC_ENUM_FRAMEINTERVALS:
    case VIDIOC_G_FMT:
    case VIDIOC_S_FMT:
    case VIDIOC_TRY_FMT:
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM:
    case VIDIOC_ENUMINPUT:
    case VIDIOC_G_INPUT:
    case VIDIOC_S_INPUT:
    case VIDIOC_REQBUFS:
    case VIDIOC_CREATE_BUFS:
    case VIDIOC_QUERYBUF:
    case VIDIOC_QBUF:
    case VIDIOC_DQBUF:
    case VIDIOC_EXPBUF:
    case VIDIOC_STREAMON:
    case VIDIOC_STREAMOFF:
    case VIDIOC_G_PRIORITY:
    case VIDIOC_S_PRIORITY:
    case VIDIOC_SUBSCRIBE_EVENT:
    case VIDIOC_UNSUBSCRIBE_EVENT:
    case VIDIOC_DQEVENT:
    case VIDIOC_QUERYCTRL:
    case VIDIOC_QUERY_EXT_CTRL:
    case VIDIOC_QUERYMENU:
    case VIDIOC_G_CTRL:
    case VIDIOC_S_CTRL:
    case VIDIOC_G_EXT_CTRLS:
    case VIDIOC_S_EXT_CTRLS:
    case VIDIOC_TRY_EXT_CTRLS:
    case VIDIOC_ENCODER_CMD:
    case VIDIOC_TRY_ENCODER_CMD:
    case VIDIOC_G_SELECTION:
    case VIDIOC_S_SELECTION:
    case MEDIA_IOC_DEVICE_INFO:
    case MEDIA_IOC_G_TOPOLOGY:
    case MEDIA_IOC_ENUM_ENTITIES:
    case MEDIA_IOC_ENUM_LINKS:
    case MEDIA_IOC_SETUP_LINK:
      return 1;
    default:
      return 0;
  }
}

int common_ioctl(struct vfile* f, unsigned long req, void* arg, int* handled) {
  *handled = 1;
  if (needs_prio(req) && !prio_ok(f)) return EBUSY;
  switch (req) {
    case VIDIOC_G_PRIORITY:
      *(enum v4l2_priority*)arg = max_prio(f->dev);
      return 0;
    case VIDIOC_S_PRIORITY: {
      enum v4l2_priority p = *(enum v4l2_priority*)arg;
      if (p == V4L2_PRIORITY_UNSET) p = V4L2_PRIORITY_DEFAULT;
      if (p > V4L2_PRIORITY_RECORD) return EINVAL;
      f->prio = p;
      return 0;
    }
    case VIDIOC_SUBSCRIBE_EVENT:
      return ev_subscribe(f, arg);
    case VIDIOC_UNSUBSCRIBE_EVENT:
      return ev_unsubscribe(f, arg);
    case VIDIOC_DQEVENT:
      return ev_dequeue(f, arg);
    default: {
      struct vctrls* c = file_ctrls(f);
      int err = ctrls_ioctl(c, f, req, arg, handled);
      if (*handled && !c && req != VIDIOC_G_EXT_CTRLS && req != VIDIOC_S_EXT_CTRLS &&
          req != VIDIOC_TRY_EXT_CTRLS)
        return EINVAL; /* a device with no controls: QUERYCTRL etc. find nothing */
      return err;
    }
  }
}

/* The last fd of an open file went away (v4l2_release). */
void vfile_release(struct vfile* f) {
  struct vdevice* d = f->dev;
  epoll_forget(f);
  /* unlink first: other threads walk d->files (vdev_update_levels) */
  pthread_mutex_lock(&d->lock);
  for (struct vfile** p = &d->files; *p; p = &(*p)->next) {
    if (*p == f) {
      *p = f->next;
      break;
    }
  }
  pthread_mutex_unlock(&d->lock);
  if (d->kind == VDEV_CAMERA)
    camera_release(f);
  else if (d->kind == VDEV_ENCODER)
    encoder_release(f);
  else if (d->kind == VDEV_SND_PCM)
    vsnd_pcm_release(f);
  real.close(f->evfd);
  atomic_fetch_sub(&g_vfiles_open, 1);
  free(f);
}

/* vb2_mmap(): MAP_SHARED only, the buffer found by its QUERYBUF offset,
 * PROT_WRITE needed on OUTPUT queues and PROT_READ on CAPTURE ones. */
void* vdev_mmap(struct vfile* f, void* addr, size_t len, int prot, int flags, off_t off) {
  struct vdevice* d = f->dev;
  if (d->kind == VDEV_SND_PCM) return vsnd_pcm_mmap(f, addr, len, prot, flags, off);
  pthread_mutex_lock(&d->lock);
  int err = 0;
  void* r = MAP_FAILED;
  struct vqueue* q = NULL;
  struct vbuf* b = NULL;
  if (!d->present || f->generation != d->generation) {
    err = ENODEV;
  } else if (!(flags & MAP_SHARED)) {
    err = EINVAL;
  } else if (!(q = file_queue_for_offset(f, (uint64_t)off)) ||
             !(b = vq_find_offset(q, (uint64_t)off))) {
    err = EINVAL;
  } else if (len == 0 || len > ((b->length + VDEV_PAGE - 1) & ~(size_t)(VDEV_PAGE - 1))) {
    err = EINVAL;
  } else if (V4L2_TYPE_IS_OUTPUT(q->type) ? !(prot & PROT_WRITE) : !(prot & PROT_READ)) {
    err = EINVAL;
  } else {
    r = real.mmap(addr, len, prot, flags, b->memfd, 0);
    if (r == MAP_FAILED) err = errno;
  }
  pthread_mutex_unlock(&d->lock);
  if (err) errno = err;
  return r;
}
