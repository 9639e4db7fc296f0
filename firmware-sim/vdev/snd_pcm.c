/* The PCM nodes /dev/snd/pcmC0D0c (microphone) and pcmC0D0p (speaker): the
 * ioctls of the kernel's PCM core (sound/core/pcm_native.c, pcm_lib.c) that
 * alsa-lib 1.2.8's hw plugin (src/pcm/pcm_hw.c) makes, with the state
 * machine, pointer arithmetic and error codes of Linux 6.1:
 *
 *   OPEN --HW_PARAMS--> SETUP --PREPARE--> PREPARED --START/transfer--> RUNNING
 *   RUNNING --overrun/underrun--> XRUN (transfers: EPIPE) --PREPARE--> PREPARED
 *   RUNNING --PAUSE--> PAUSED; playback DRAIN: DRAINING --played all--> SETUP
 *   any --DROP--> SETUP; unplug: every call ENODEV
 *
 * The status/control pages are not mappable (mmap answers ENXIO, as on
 * kernels where pcm_status_mmap_allowed() is false), so alsa-lib keeps its
 * pointers in step through SNDRV_PCM_IOCTL_SYNC_PTR. The ring buffer is a
 * memfd, mappable at offset 0 for MMAP access. Blocking transfers and DRAIN
 * wait on the node's condition like the core's wait_for_avail(), giving up
 * with EIO after 10 s without progress (a stalled device), as the core does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "real.h"
#include "snd.h"

#define WAIT_TIMEOUT_NS 10000000000ll /* the core's 10 s transfer timeout */

static const struct vsnd_limits USB_LIMITS = {
    /* snd-usb-audio's snd_usb_hardware, one 48 kHz S16_LE altsetting each way */
    .access_mask = 1u << SNDRV_PCM_ACCESS_MMAP_INTERLEAVED | 1u << SNDRV_PCM_ACCESS_RW_INTERLEAVED,
    .format_mask = 1ull << SNDRV_PCM_FORMAT_S16_LE,
    .rate_min = SND_RATE,
    .rate_max = SND_RATE,
    .period_bytes_min = 64,
    .period_bytes_max = 512 * 1024,
    .periods_min = 2,
    .periods_max = 1024,
    .buffer_bytes_max = 1024 * 1024,
    .period_time_min = 1000, /* one USB frame */
    .info = SNDRV_PCM_INFO_MMAP | SNDRV_PCM_INFO_MMAP_VALID | SNDRV_PCM_INFO_BATCH |
            SNDRV_PCM_INFO_INTERLEAVED | SNDRV_PCM_INFO_BLOCK_TRANSFER | SNDRV_PCM_INFO_PAUSE,
};

void vsnd_pcm_init(struct vsnd_sub* s, struct vdevice* d, int stream) {
  memset(s, 0, sizeof(*s));
  s->dev = d;
  s->stream = stream;
  s->limits = USB_LIMITS;
  /* a CM108-class adapter: mono microphone, stereo headphones */
  s->limits.channels_min = s->limits.channels_max = stream == SNDRV_PCM_STREAM_CAPTURE ? 1 : 2;
  s->memfd = -1;
  s->state = SNDRV_PCM_STATE_OPEN;
  d->priv = s;
}

static struct vsnd_sub* sub_of(struct vfile* f) { return f->dev->priv; }

/* ---- pointers (pcm_local.h's snd_pcm_playback_avail etc.) ---- */

snd_pcm_uframes_t vsnd_avail(const struct vsnd_sub* s) {
  if (!s->boundary) return 0;
  int64_t avail = (int64_t)s->hw_ptr - (int64_t)s->appl_ptr;
  if (s->stream == SNDRV_PCM_STREAM_PLAYBACK) avail += (int64_t)s->buffer_size;
  if (avail < 0)
    avail += (int64_t)s->boundary;
  else if ((uint64_t)avail >= s->boundary)
    avail -= (int64_t)s->boundary;
  return (snd_pcm_uframes_t)avail;
}

snd_pcm_sframes_t vsnd_hw_avail(const struct vsnd_sub* s) {
  return (snd_pcm_sframes_t)s->buffer_size - (snd_pcm_sframes_t)vsnd_avail(s);
}

static int running(const struct vsnd_sub* s) {
  return s->state == SNDRV_PCM_STATE_RUNNING ||
         (s->state == SNDRV_PCM_STATE_DRAINING && s->stream == SNDRV_PCM_STREAM_PLAYBACK);
}

/* Called by the clock itself (xrun, drained) or with it already stopped. */
void vsnd_set_state_stopped(struct vsnd_sub* s, snd_pcm_state_t state) {
  s->state = state;
  s->trigger_ns = mono_ns();
}

static struct timespec to_ts(const struct vsnd_sub* s, int64_t mono) {
  int64_t t = mono;
  if (s->tstamp_type == SNDRV_PCM_TSTAMP_TYPE_GETTIMEOFDAY) {
    t += real_ns() - mono_ns();
  } else if (s->tstamp_type == SNDRV_PCM_TSTAMP_TYPE_MONOTONIC_RAW) {
    struct timespec raw;
    clock_gettime(CLOCK_MONOTONIC_RAW, &raw);
    t += (int64_t)raw.tv_sec * 1000000000 + raw.tv_nsec - mono_ns();
  }
  return (struct timespec){(time_t)(t / 1000000000), (long)(t % 1000000000)};
}

static struct timespec frames_ts(uint64_t frames) {
  return (struct timespec){(time_t)(frames / SND_RATE),
                           (long)((frames % SND_RATE) * 1000000000 / SND_RATE)};
}

/* ---- open / release / unplug ---- */

int vsnd_pcm_open(struct vfile* f, int flags) {
  struct vdevice* d = f->dev;
  struct vsnd_sub* s = d->priv;
  while (s->owner) { /* vsnd_pcm_open(): one substream, the next opener waits */
    if (flags & O_NONBLOCK) return EBUSY;
    pthread_cond_wait(&d->cond, &d->lock);
    if (!d->present) return ENODEV;
  }
  s->owner = f;
  s->state = SNDRV_PCM_STATE_OPEN;
  s->tstamp_type = SNDRV_PCM_TSTAMP_TYPE_GETTIMEOFDAY;
  s->user_pversion = 0;
  s->hw_ptr = s->appl_ptr = 0;
  s->boundary = 0;
  s->avail_min = 1;
  return 0;
}

static void free_ring(struct vsnd_sub* s) {
  if (s->ring) real.munmap(s->ring, s->ring_bytes);
  if (s->memfd >= 0) real.close(s->memfd);
  s->ring = NULL;
  s->ring_bytes = 0;
  s->memfd = -1;
}

/* The owner is gone: stop the clock and free the buffer (dev lock held). */
static void detach(struct vsnd_sub* s) {
  vsnd_stream_stop(s);
  free_ring(s);
  s->owner = NULL;
  s->state = SNDRV_PCM_STATE_OPEN;
  pthread_cond_broadcast(&s->dev->cond); /* a waiting opener may go on */
}

void vsnd_pcm_release(struct vfile* f) {
  struct vdevice* d = f->dev;
  struct vsnd_sub* s = d->priv;
  pthread_mutex_lock(&d->lock);
  if (s->owner == f) detach(s); /* vsnd_pcm_release() drops a running stream */
  pthread_mutex_unlock(&d->lock);
}

/* snd_card_disconnect(): the clock ends; open files stay stale (ENODEV). */
void vsnd_pcm_unplug(struct vdevice* d) {
  struct vsnd_sub* s = d->priv;
  s->stop = 1;
  if (s->state != SNDRV_PCM_STATE_OPEN) s->state = SNDRV_PCM_STATE_DISCONNECTED;
}

/* Replug: what the stale owner held goes, so a new open works. */
void vsnd_pcm_reap(struct vdevice* d) {
  pthread_mutex_lock(&d->lock);
  detach(d->priv);
  pthread_mutex_unlock(&d->lock);
}

/* ---- poll (snd_pcm_poll) ---- */

unsigned vsnd_pcm_poll_mask(struct vfile* f) {
  struct vsnd_sub* s = sub_of(f);
  unsigned ok = s->stream == SNDRV_PCM_STREAM_PLAYBACK ? POLLOUT | POLLWRNORM : POLLIN | POLLRDNORM;
  snd_pcm_uframes_t avail = vsnd_avail(s);
  switch (s->state) {
    case SNDRV_PCM_STATE_RUNNING:
    case SNDRV_PCM_STATE_PREPARED:
    case SNDRV_PCM_STATE_PAUSED:
      return avail >= s->avail_min ? ok : 0;
    case SNDRV_PCM_STATE_DRAINING:
      if (s->stream == SNDRV_PCM_STREAM_CAPTURE) return ok | (avail ? 0 : POLLERR);
      return 0;
    default:
      return ok | POLLERR;
  }
}

/* ---- mmap ---- */

void* vsnd_pcm_mmap(struct vfile* f, void* addr, size_t len, int prot, int flags, off_t off) {
  struct vdevice* d = f->dev;
  struct vsnd_sub* s = d->priv;
  int err = 0;
  void* r = MAP_FAILED;
  pthread_mutex_lock(&d->lock);
  if (!d->present || f->generation != d->generation) {
    err = ENODEV;
  } else if (off != SNDRV_PCM_MMAP_OFFSET_DATA) {
    /* status/control pages: refused, so alsa-lib uses SYNC_PTR */
    err = ENXIO;
  } else if (s->state == SNDRV_PCM_STATE_OPEN || !s->ring) {
    err = EBADFD;
  } else if (!(flags & MAP_SHARED) || !(prot & (PROT_READ | PROT_WRITE))) {
    err = EINVAL;
  } else if (len == 0 || len > s->ring_bytes) {
    err = EINVAL;
  } else {
    r = real.mmap(addr, len, prot, flags, s->memfd, 0);
    if (r == MAP_FAILED) err = errno;
  }
  pthread_mutex_unlock(&d->lock);
  if (err) errno = err;
  return r;
}

/* ---- hw/sw params ---- */

static int hw_params(struct vsnd_sub* s, struct snd_pcm_hw_params* p) {
  if (s->state != SNDRV_PCM_STATE_OPEN && s->state != SNDRV_PCM_STATE_SETUP &&
      s->state != SNDRV_PCM_STATE_PREPARED)
    return EBADFD;
  int err = vsnd_params_choose(&s->limits, p);
  if (err) {
    s->state = SNDRV_PCM_STATE_OPEN;
    return err;
  }
  free_ring(s);
  s->access = vsnd_params_value(p, SNDRV_PCM_HW_PARAM_ACCESS);
  s->channels = vsnd_params_value(p, SNDRV_PCM_HW_PARAM_CHANNELS);
  s->rate = vsnd_params_value(p, SNDRV_PCM_HW_PARAM_RATE);
  s->period_size = vsnd_params_value(p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE);
  s->buffer_size = vsnd_params_value(p, SNDRV_PCM_HW_PARAM_BUFFER_SIZE);
  s->frame_bytes = s->channels * 2;
  s->info = p->info;
  size_t bytes = (s->buffer_size * s->frame_bytes + VDEV_PAGE - 1) & ~(size_t)(VDEV_PAGE - 1);
  s->memfd = memfd_create("camgw-snd", MFD_CLOEXEC);
  if (s->memfd < 0 || ftruncate(s->memfd, (off_t)bytes) != 0) {
    free_ring(s);
    s->state = SNDRV_PCM_STATE_OPEN;
    return ENOMEM;
  }
  s->ring = real.mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
  if (s->ring == MAP_FAILED) {
    s->ring = NULL;
    free_ring(s);
    s->state = SNDRV_PCM_STATE_OPEN;
    return ENOMEM;
  }
  s->ring_bytes = bytes;
  /* the core's default sw_params */
  s->tstamp_mode = SNDRV_PCM_TSTAMP_NONE;
  s->avail_min = s->period_size;
  s->start_threshold = 1;
  s->stop_threshold = s->buffer_size;
  s->silence_threshold = s->silence_size = 0;
  s->boundary = s->buffer_size;
  while (s->boundary * 2 <= (snd_pcm_uframes_t)LONG_MAX - s->buffer_size) s->boundary *= 2;
  s->hw_ptr = s->appl_ptr = 0;
  s->state = SNDRV_PCM_STATE_SETUP;
  return 0;
}

static int hw_free(struct vsnd_sub* s) {
  if (s->state != SNDRV_PCM_STATE_SETUP && s->state != SNDRV_PCM_STATE_PREPARED) return EBADFD;
  free_ring(s);
  s->state = SNDRV_PCM_STATE_OPEN;
  return 0;
}

static int sw_params(struct vsnd_sub* s, struct snd_pcm_sw_params* p) {
  if (s->state == SNDRV_PCM_STATE_OPEN) return EBADFD;
  if (p->tstamp_mode > SNDRV_PCM_TSTAMP_LAST) return EINVAL;
  if (p->proto >= SNDRV_PROTOCOL_VERSION(2, 0, 12) && p->tstamp_type > SNDRV_PCM_TSTAMP_TYPE_LAST)
    return EINVAL;
  if (p->avail_min == 0) return EINVAL;
  if (p->silence_size >= s->boundary) {
    if (p->silence_threshold != 0) return EINVAL;
  } else if (p->silence_size > p->silence_threshold || p->silence_threshold > s->buffer_size) {
    return EINVAL;
  }
  s->tstamp_mode = (int)p->tstamp_mode;
  if (p->proto >= SNDRV_PROTOCOL_VERSION(2, 0, 12)) s->tstamp_type = (int)p->tstamp_type;
  s->avail_min = p->avail_min;
  s->start_threshold = p->start_threshold;
  s->stop_threshold = p->stop_threshold;
  s->silence_threshold = p->silence_threshold;
  s->silence_size = p->silence_size;
  p->boundary = s->boundary;
  return 0;
}

/* ---- status ---- */

static int hwsync(const struct vsnd_sub* s) {
  switch (s->state) {
    case SNDRV_PCM_STATE_DRAINING:
      return s->stream == SNDRV_PCM_STREAM_CAPTURE ? EBADFD : 0;
    case SNDRV_PCM_STATE_RUNNING:
    case SNDRV_PCM_STATE_PREPARED:
    case SNDRV_PCM_STATE_PAUSED:
      return 0;
    case SNDRV_PCM_STATE_XRUN:
      return EPIPE;
    default:
      return EBADFD;
  }
}

static void status(struct vsnd_sub* s, struct snd_pcm_status* st) {
  unsigned tstamp_data = st->audio_tstamp_data;
  memset(st, 0, sizeof(*st));
  st->audio_tstamp_data = tstamp_data;
  st->state = s->state;
  if (s->state == SNDRV_PCM_STATE_OPEN) return;
  st->trigger_tstamp = to_ts(s, s->trigger_ns);
  int live = running(s);
  st->tstamp =
      to_ts(s, live && s->tstamp_mode == SNDRV_PCM_TSTAMP_ENABLE ? s->tstamp_ns : mono_ns());
  st->audio_tstamp = frames_ts(s->pos);
  st->appl_ptr = s->appl_ptr;
  st->hw_ptr = s->hw_ptr;
  st->avail = vsnd_avail(s);
  if (s->stream == SNDRV_PCM_STREAM_PLAYBACK)
    st->delay = live ? vsnd_hw_avail(s) : 0;
  else
    st->delay = s->state == SNDRV_PCM_STATE_RUNNING ? (snd_pcm_sframes_t)st->avail : 0;
  st->avail_max = s->avail_max > st->avail ? s->avail_max : st->avail;
  s->avail_max = 0;
}

static int sync_ptr(struct vsnd_sub* s, struct snd_pcm_sync_ptr* sp) {
  if (sp->flags & SNDRV_PCM_SYNC_PTR_HWSYNC) {
    int err = hwsync(s);
    if (err) return err;
  }
  if (!(sp->flags & SNDRV_PCM_SYNC_PTR_APPL)) {
    snd_pcm_uframes_t a = sp->c.control.appl_ptr;
    if (a != s->appl_ptr) {
      if (a >= s->boundary) return EINVAL;
      s->appl_ptr = a;
    }
  } else {
    sp->c.control.appl_ptr = s->appl_ptr;
  }
  if (!(sp->flags & SNDRV_PCM_SYNC_PTR_AVAIL_MIN))
    s->avail_min = sp->c.control.avail_min;
  else
    sp->c.control.avail_min = s->avail_min;
  sp->s.status.state = s->state;
  sp->s.status.hw_ptr = s->hw_ptr;
  sp->s.status.tstamp = to_ts(s, s->tstamp_ns);
  sp->s.status.suspended_state = 0;
  sp->s.status.audio_tstamp = frames_ts(s->pos);
  vdev_update_levels(s->dev);
  return 0;
}

/* ---- state changes ---- */

static int start(struct vsnd_sub* s, snd_pcm_state_t state) {
  s->state = state;
  s->trigger_ns = s->tstamp_ns = s->base_ns = mono_ns();
  s->pos = s->base_pos = 0;
  int err = vsnd_stream_start(s);
  if (err) s->state = SNDRV_PCM_STATE_SETUP;
  vdev_update_levels(s->dev);
  return err;
}

static int do_start(struct vsnd_sub* s) {
  if (s->state != SNDRV_PCM_STATE_PREPARED) return EBADFD;
  if (s->stream == SNDRV_PCM_STREAM_PLAYBACK && vsnd_hw_avail(s) <= 0) return EPIPE;
  return start(s, SNDRV_PCM_STATE_RUNNING);
}

static void stop(struct vsnd_sub* s, snd_pcm_state_t state) {
  vsnd_stream_stop(s);
  vsnd_set_state_stopped(s, state);
  vdev_update_levels(s->dev);
  pthread_cond_broadcast(&s->dev->cond);
}

static int prepare(struct vsnd_sub* s) {
  if (s->state == SNDRV_PCM_STATE_OPEN || s->state == SNDRV_PCM_STATE_DISCONNECTED) return EBADFD;
  if (s->state == SNDRV_PCM_STATE_PAUSED) stop(s, SNDRV_PCM_STATE_SETUP);
  if (running(s)) return EBUSY;
  vsnd_stream_stop(s);
  s->hw_ptr = s->appl_ptr = 0;
  s->pos = 0;
  s->avail_max = 0;
  s->state = SNDRV_PCM_STATE_PREPARED;
  vdev_update_levels(s->dev);
  return 0;
}

static int pause_push(struct vsnd_sub* s, int push) {
  if (!(s->info & SNDRV_PCM_INFO_PAUSE)) return ENOSYS;
  if (push) {
    if (s->state != SNDRV_PCM_STATE_RUNNING) return EBADFD;
    stop(s, SNDRV_PCM_STATE_PAUSED);
    return 0;
  }
  if (s->state != SNDRV_PCM_STATE_PAUSED) return EBADFD;
  /* the clock resumes from here: the pause is a gap in time, not in frames */
  s->state = SNDRV_PCM_STATE_RUNNING;
  s->trigger_ns = s->base_ns = mono_ns();
  s->base_pos = s->pos;
  int err = vsnd_stream_start(s);
  vdev_update_levels(s->dev);
  return err;
}

/* Wait for a change on this node: 0, ETIMEDOUT after the core's timeout, ENODEV. */
static int wait_change(struct vsnd_sub* s, int64_t deadline) {
  struct vdevice* d = s->dev;
  struct timespec ts = {(time_t)(deadline / 1000000000), (long)(deadline % 1000000000)};
  int r = pthread_cond_timedwait(&d->cond, &d->lock, &ts);
  if (!d->present || s->state == SNDRV_PCM_STATE_DISCONNECTED) return ENODEV;
  return r == ETIMEDOUT && mono_ns() >= deadline ? ETIMEDOUT : 0;
}

static int drain(struct vfile* f, struct vsnd_sub* s) {
  if (s->state == SNDRV_PCM_STATE_OPEN || s->state == SNDRV_PCM_STATE_DISCONNECTED) return EBADFD;
  if (s->state == SNDRV_PCM_STATE_PAUSED) pause_push(s, 0);
  if (s->stream == SNDRV_PCM_STREAM_PLAYBACK) {
    switch (s->state) {
      case SNDRV_PCM_STATE_PREPARED:
        if (vsnd_hw_avail(s) > 0) {
          int err = start(s, SNDRV_PCM_STATE_DRAINING);
          if (err) return err;
        } else {
          s->state = SNDRV_PCM_STATE_SETUP;
        }
        break;
      case SNDRV_PCM_STATE_RUNNING:
        s->state = SNDRV_PCM_STATE_DRAINING;
        break;
      case SNDRV_PCM_STATE_XRUN:
        s->state = SNDRV_PCM_STATE_SETUP;
        break;
      default:
        break;
    }
  } else if (s->state == SNDRV_PCM_STATE_RUNNING) {
    stop(s, vsnd_avail(s) > 0 ? SNDRV_PCM_STATE_DRAINING : SNDRV_PCM_STATE_SETUP);
  }
  vdev_update_levels(s->dev);
  if (s->stream == SNDRV_PCM_STREAM_CAPTURE || s->state != SNDRV_PCM_STATE_DRAINING) return 0;
  if (file_nonblock(f)) return EAGAIN;
  int64_t deadline = mono_ns() + WAIT_TIMEOUT_NS;
  while (s->state == SNDRV_PCM_STATE_DRAINING) {
    int err = wait_change(s, deadline);
    if (err == ETIMEDOUT) return EIO;
    if (err) return err;
  }
  return 0;
}

/* ---- transfers (__snd_pcm_lib_xfer) ---- */

static int accessible(const struct vsnd_sub* s) {
  switch (s->state) {
    case SNDRV_PCM_STATE_PREPARED:
    case SNDRV_PCM_STATE_RUNNING:
    case SNDRV_PCM_STATE_PAUSED:
      return 0;
    case SNDRV_PCM_STATE_DRAINING:
      return s->stream == SNDRV_PCM_STREAM_CAPTURE ? 0 : EBADFD;
    case SNDRV_PCM_STATE_XRUN:
      return EPIPE;
    case SNDRV_PCM_STATE_DISCONNECTED:
      return ENODEV;
    default:
      return EBADFD;
  }
}

/* Waits until `want` frames are available; 0 with *avail set, or an errno. */
static int wait_avail(struct vsnd_sub* s, snd_pcm_uframes_t want, snd_pcm_uframes_t* avail) {
  int64_t deadline = mono_ns() + WAIT_TIMEOUT_NS;
  snd_pcm_uframes_t progress = s->pos;
  for (;;) {
    switch (s->state) {
      case SNDRV_PCM_STATE_XRUN:
        return EPIPE;
      case SNDRV_PCM_STATE_DRAINING:
        if (s->stream == SNDRV_PCM_STREAM_PLAYBACK) return EPIPE;
        *avail = 0; /* capture drained meanwhile */
        return 0;
      case SNDRV_PCM_STATE_OPEN:
      case SNDRV_PCM_STATE_SETUP:
        return EBADFD;
      case SNDRV_PCM_STATE_DISCONNECTED:
        return ENODEV;
      default:
        break;
    }
    *avail = vsnd_avail(s);
    if (*avail >= want) return 0;
    int err = wait_change(s, deadline);
    if (err == ETIMEDOUT) return EIO; /* "capture read error (DMA or IRQ trouble?)" */
    if (err) return err;
    if (s->pos != progress || s->state == SNDRV_PCM_STATE_PAUSED ||
        s->state == SNDRV_PCM_STATE_PREPARED) {
      progress = s->pos;
      deadline = mono_ns() + WAIT_TIMEOUT_NS;
    }
  }
}

static snd_pcm_sframes_t transfer(struct vfile* f, struct vsnd_sub* s, uint8_t* buf,
                                  snd_pcm_uframes_t size) {
  int play = s->stream == SNDRV_PCM_STREAM_PLAYBACK;
  int err = accessible(s);
  if (err) return -err;
  if (s->access != SNDRV_PCM_ACCESS_RW_INTERLEAVED) return -EINVAL;
  if (!size) return 0;
  if (!buf) return -EFAULT;
  int nonblock = file_nonblock(f);
  if (!play && s->state == SNDRV_PCM_STATE_PREPARED && size >= s->start_threshold) {
    err = do_start(s);
    if (err) return -err;
  }
  snd_pcm_uframes_t avail = vsnd_avail(s), done = 0;
  while (size > 0) {
    if (!avail) {
      if (!play && s->state == SNDRV_PCM_STATE_DRAINING) {
        stop(s, SNDRV_PCM_STATE_SETUP);
        break;
      }
      if (nonblock) {
        err = EAGAIN;
        break;
      }
      snd_pcm_uframes_t want = s->avail_min ? s->avail_min : 1;
      err = wait_avail(s, size < want ? size : want, &avail);
      if (err) break;
      if (!avail) continue;
    }
    snd_pcm_uframes_t n = size < avail ? size : avail;
    snd_pcm_uframes_t at = s->appl_ptr % s->buffer_size;
    if (n > s->buffer_size - at) n = s->buffer_size - at;
    uint8_t* ring = s->ring + at * s->frame_bytes;
    if (play)
      memcpy(ring, buf + done * s->frame_bytes, n * s->frame_bytes);
    else
      memcpy(buf + done * s->frame_bytes, ring, n * s->frame_bytes);
    s->appl_ptr = (s->appl_ptr + n) % s->boundary;
    done += n;
    size -= n;
    avail -= n;
    if (play && s->state == SNDRV_PCM_STATE_PREPARED &&
        vsnd_hw_avail(s) >= (snd_pcm_sframes_t)s->start_threshold) {
      err = do_start(s);
      if (err) break;
    }
  }
  vdev_update_levels(s->dev);
  return done > 0 ? (snd_pcm_sframes_t)done : -err;
}

static snd_pcm_sframes_t move_appl(struct vsnd_sub* s, snd_pcm_uframes_t frames, int forward) {
  int err = hwsync(s);
  if (err) return -err;
  snd_pcm_sframes_t room = forward ? (snd_pcm_sframes_t)vsnd_avail(s) : vsnd_hw_avail(s);
  if (room <= 0) return 0;
  if (frames > (snd_pcm_uframes_t)room) frames = (snd_pcm_uframes_t)room;
  s->appl_ptr = forward ? (s->appl_ptr + frames) % s->boundary
                        : (s->appl_ptr + s->boundary - frames) % s->boundary;
  vdev_update_levels(s->dev);
  return (snd_pcm_sframes_t)frames;
}

/* ---- ioctl ---- */

static void fill_info(const struct vsnd_sub* s, struct snd_pcm_info* in);

int vsnd_pcm_ioctl(struct vfile* f, unsigned long req, void* arg) {
  struct vsnd_sub* s = sub_of(f);
  /* PAUSE and LINK take their argument by value, as the core reads them */
  if (_IOC_SIZE(req) && !arg && req != SNDRV_PCM_IOCTL_PAUSE && req != SNDRV_PCM_IOCTL_LINK)
    return EFAULT;
  switch (req) {
    case SNDRV_PCM_IOCTL_PVERSION:
      *(int*)arg = SNDRV_PCM_VERSION;
      return 0;
    case SNDRV_PCM_IOCTL_INFO:
      fill_info(s, arg);
      return 0;
    case SNDRV_PCM_IOCTL_TSTAMP:
      s->tstamp_type =
          *(int*)arg ? SNDRV_PCM_TSTAMP_TYPE_MONOTONIC : SNDRV_PCM_TSTAMP_TYPE_GETTIMEOFDAY;
      return 0;
    case SNDRV_PCM_IOCTL_TTSTAMP: {
      int t = *(int*)arg;
      if (t < 0 || t > SNDRV_PCM_TSTAMP_TYPE_LAST) return EINVAL;
      s->tstamp_type = t;
      return 0;
    }
    case SNDRV_PCM_IOCTL_USER_PVERSION:
      s->user_pversion = *(int*)arg;
      return 0;
    case SNDRV_PCM_IOCTL_HW_REFINE:
      return vsnd_params_refine(&s->limits, arg);
    case SNDRV_PCM_IOCTL_HW_PARAMS:
      return hw_params(s, arg);
    case SNDRV_PCM_IOCTL_HW_FREE:
      return hw_free(s);
    case SNDRV_PCM_IOCTL_SW_PARAMS:
      return sw_params(s, arg);
    case SNDRV_PCM_IOCTL_STATUS:
    case SNDRV_PCM_IOCTL_STATUS_EXT:
      status(s, arg);
      return 0;
    case SNDRV_PCM_IOCTL_DELAY: {
      int err = hwsync(s);
      if (err) return err;
      *(snd_pcm_sframes_t*)arg = s->stream == SNDRV_PCM_STREAM_PLAYBACK
                                     ? vsnd_hw_avail(s)
                                     : (snd_pcm_sframes_t)vsnd_avail(s);
      return 0;
    }
    case SNDRV_PCM_IOCTL_HWSYNC:
      return hwsync(s);
    case SNDRV_PCM_IOCTL_SYNC_PTR:
      return sync_ptr(s, arg);
    case SNDRV_PCM_IOCTL_CHANNEL_INFO: {
      struct snd_pcm_channel_info* ci = arg;
      if (s->state == SNDRV_PCM_STATE_OPEN) return EBADFD;
      if (ci->channel >= s->channels) return EINVAL;
      unsigned ch = ci->channel;
      memset(ci, 0, sizeof(*ci));
      ci->channel = ch;
      ci->offset = SNDRV_PCM_MMAP_OFFSET_DATA;
      ci->first = ch * 16;
      ci->step = s->channels * 16;
      return 0;
    }
    case SNDRV_PCM_IOCTL_PREPARE:
      return prepare(s);
    case SNDRV_PCM_IOCTL_RESET: {
      if (s->state != SNDRV_PCM_STATE_RUNNING && s->state != SNDRV_PCM_STATE_PREPARED &&
          s->state != SNDRV_PCM_STATE_PAUSED)
        return EBADFD;
      s->appl_ptr = s->hw_ptr;
      vdev_update_levels(f->dev);
      return 0;
    }
    case SNDRV_PCM_IOCTL_START:
      return do_start(s);
    case SNDRV_PCM_IOCTL_DROP:
      if (s->state == SNDRV_PCM_STATE_OPEN || s->state == SNDRV_PCM_STATE_DISCONNECTED)
        return EBADFD;
      stop(s, SNDRV_PCM_STATE_SETUP);
      return 0;
    case SNDRV_PCM_IOCTL_DRAIN:
      return drain(f, s);
    case SNDRV_PCM_IOCTL_PAUSE:
      return pause_push(s, (int)(uintptr_t)arg);
    case SNDRV_PCM_IOCTL_REWIND:
    case SNDRV_PCM_IOCTL_FORWARD: {
      snd_pcm_uframes_t* n = arg;
      snd_pcm_sframes_t r = move_appl(s, *n, req == SNDRV_PCM_IOCTL_FORWARD);
      if (r < 0) return (int)-r;
      *n = (snd_pcm_uframes_t)r;
      return 0;
    }
    case SNDRV_PCM_IOCTL_RESUME:
      return ENOSYS; /* no SNDRV_PCM_INFO_RESUME, like snd-usb-audio */
    case SNDRV_PCM_IOCTL_XRUN:
      if (s->state == SNDRV_PCM_STATE_XRUN) return 0;
      if (s->state != SNDRV_PCM_STATE_RUNNING) return EBADFD;
      stop(s, SNDRV_PCM_STATE_XRUN);
      return 0;
    case SNDRV_PCM_IOCTL_WRITEI_FRAMES:
    case SNDRV_PCM_IOCTL_READI_FRAMES: {
      struct snd_xferi* x = arg;
      int play = req == SNDRV_PCM_IOCTL_WRITEI_FRAMES;
      if (play != (s->stream == SNDRV_PCM_STREAM_PLAYBACK)) return EINVAL;
      x->result = transfer(f, s, x->buf, x->frames);
      return x->result < 0 ? (int)-x->result : 0;
    }
    case SNDRV_PCM_IOCTL_WRITEN_FRAMES:
    case SNDRV_PCM_IOCTL_READN_FRAMES:
      /* non-interleaved transfers need RW_NONINTERLEAVED access, never offered */
      return s->state == SNDRV_PCM_STATE_OPEN ? EBADFD : EINVAL;
    default:
      return ENOTTY;
  }
}

static void fill_info(const struct vsnd_sub* s, struct snd_pcm_info* in) {
  memset(in, 0, sizeof(*in));
  in->device = 0;
  in->subdevice = 0;
  in->stream = s->stream;
  in->card = 0;
  snprintf((char*)in->id, sizeof(in->id), "USB Audio");
  snprintf((char*)in->name, sizeof(in->name), "USB Audio");
  snprintf((char*)in->subname, sizeof(in->subname), "subdevice #0");
  in->dev_class = SNDRV_PCM_CLASS_GENERIC;
  in->dev_subclass = SNDRV_PCM_SUBCLASS_GENERIC_MIX;
  in->subdevices_count = 1;
  in->subdevices_avail = s->owner ? 0 : 1;
}

void vsnd_pcm_info_of(struct vdevice* d, struct snd_pcm_info* in) { fill_info(d->priv, in); }
