/* The virtual H.264 encoder, /dev/video11, after the Raspberry Pi's
 * bcm2835-codec (drivers/staging/vc04_services/bcm2835-codec) and the
 * kernel's "Memory-to-memory Stateful Video Encoder Interface":
 *
 * - one independent encoding context per open (v4l2_m2m_ctx);
 * - OUTPUT (raw, MPLANE, MMAP or DMABUF) -> CAPTURE (H.264 Annex-B, one
 *   access unit per buffer), timestamps copied from OUTPUT to CAPTURE
 *   (V4L2_BUF_FLAG_TIMESTAMP_COPY);
 * - the driver's controls (bitrate live, bitrate mode, I-period, profile,
 *   level, REPEAT_SEQ_HEADER, FORCE_KEY_FRAME, QP range, no B-frames);
 * - drain with V4L2_ENC_CMD_STOP: the CAPTURE buffer of the last OUTPUT
 *   frame carries V4L2_BUF_FLAG_LAST and V4L2_EVENT_EOS fires; afterwards
 *   DQBUF on CAPTURE answers EPIPE until ENCODER_CMD START or a CAPTURE
 *   STREAMOFF/STREAMON (v4l2_m2m_encoder_cmd semantics);
 * - about one frame of latency, as the VPU pipeline has: a CAPTURE buffer
 *   completes one frame period after its OUTPUT frame started encoding.
 * The encoding itself is libx264 on the context's worker thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrls.h"
#include "faults.h"
#include "h264enc.h"
#include "vdev.h"

#define ENC_DRIVER "bcm2835-codec"
#define ENC_CARD "bcm2835-codec-encode"
#define ENC_BUS "platform:bcm2835-codec"
#define KVER ((6u << 16) | (1u << 8))
#define MIN_DIM 32
#define MAX_DIM 1920

struct rawfmt {
  uint32_t fourcc;
  const char* desc;
  int packed; /* YUYV: 2 bytes per pixel, one plane */
};
static const struct rawfmt RAW[] = {
    {V4L2_PIX_FMT_YUV420, "Planar YUV 4:2:0", 0}, {V4L2_PIX_FMT_YVU420, "Planar YVU 4:2:0", 0},
    {V4L2_PIX_FMT_NV12, "Y/CbCr 4:2:0", 0},       {V4L2_PIX_FMT_NV21, "Y/CrCb 4:2:0", 0},
    {V4L2_PIX_FMT_YUYV, "YUYV 4:2:2", 1},
};
#define NRAW 5

static const char* const BITRATE_MODES[] = {"Variable Bitrate", "Constant Bitrate", NULL};
static const char* const HEADER_MODES[] = {"Separate Buffer", "Joined With 1st Frame", NULL};
static const char* const LEVELS[] = {"1", "1b",  "1.1", "1.2", "1.3", "2",   "2.1", "2.2",
                                     "3", "3.1", "3.2", "4",   "4.1", "4.2", NULL};
static const char* const PROFILES[] = {
    "Baseline", "Constrained Baseline", "Main", "Extended", "High", NULL};

static const struct vctrl_def ENC_CTRLS[] = {
    {V4L2_CID_CODEC_CLASS, V4L2_CTRL_TYPE_CTRL_CLASS, "Codec Controls", 0, 0, 0, 0, 0, NULL, 0},
    {V4L2_CID_USER_CLASS, V4L2_CTRL_TYPE_CTRL_CLASS, "User Controls", 0, 0, 0, 0, 0, NULL, 0},
    {V4L2_CID_MIN_BUFFERS_FOR_OUTPUT, V4L2_CTRL_TYPE_INTEGER, "Min Number of Output Buffers", 1, 1,
     1, 1, 0, NULL, V4L2_CTRL_FLAG_READ_ONLY | V4L2_CTRL_FLAG_VOLATILE},
    {V4L2_CID_MPEG_VIDEO_B_FRAMES, V4L2_CTRL_TYPE_INTEGER, "Number of B-Frames", 0, 0, 1, 0, 0,
     NULL, 0},
    {V4L2_CID_MPEG_VIDEO_BITRATE_MODE, V4L2_CTRL_TYPE_MENU, "Video Bitrate Mode", 0, 1, 1, 0, 0,
     BITRATE_MODES, 0},
    {V4L2_CID_MPEG_VIDEO_BITRATE, V4L2_CTRL_TYPE_INTEGER, "Video Bitrate", 25000, 25000000, 25000,
     10000000, 0, NULL, 0},
    {V4L2_CID_MPEG_VIDEO_HEADER_MODE, V4L2_CTRL_TYPE_MENU, "Sequence Header Mode", 0, 1, 1, 1, 0x1,
     HEADER_MODES, 0},
    {V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER, V4L2_CTRL_TYPE_BOOLEAN, "Repeat Sequence Header", 0, 1,
     1, 0, 0, NULL, 0},
    {V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, V4L2_CTRL_TYPE_BUTTON, "Force Key Frame", 0, 0, 0, 0, 0,
     NULL, 0},
    {V4L2_CID_MPEG_VIDEO_H264_MIN_QP, V4L2_CTRL_TYPE_INTEGER, "H264 Minimum QP Value", 0, 51, 1, 0,
     0, NULL, 0},
    {V4L2_CID_MPEG_VIDEO_H264_MAX_QP, V4L2_CTRL_TYPE_INTEGER, "H264 Maximum QP Value", 0, 51, 1, 51,
     0, NULL, 0},
    {V4L2_CID_MPEG_VIDEO_H264_I_PERIOD, V4L2_CTRL_TYPE_INTEGER, "H264 I-Frame Period", 0,
     2147483647, 1, 60, 0, NULL, 0},
    {V4L2_CID_MPEG_VIDEO_H264_LEVEL, V4L2_CTRL_TYPE_MENU, "H264 Level", 0, 13, 1, 11, 0, LEVELS, 0},
    {V4L2_CID_MPEG_VIDEO_H264_PROFILE, V4L2_CTRL_TYPE_MENU, "H264 Profile", 0, 4, 1, 4, 0x8,
     PROFILES, 0},
};

#define PENDING_MAX VDEV_MAX_BUFS

struct enc_ctx {
  struct vfile* f;
  struct vqueue out, cap;
  struct v4l2_pix_format_mplane ofmt, cfmt;
  struct v4l2_fract tpf; /* S_PARM on OUTPUT: the frame rate the rate control aims at */
  /* The frame period at the first frame: the VPU's latency, which a lower
   * declared rate does not lengthen (its speed is the same). */
  struct v4l2_fract latency_tpf;
  struct vctrls ctrls;
  pthread_t thread;
  int thread_on, stop;
  int force_idr, bitrate_changed, fps_changed;
  /* drain state (v4l2_m2m_ctx is_draining / next_buf_last / has_stopped) */
  int draining, next_buf_last, has_stopped;
  int last_src;    /* index of the last OUTPUT buffer before STOP, -1 if none */
  int running_src; /* OUTPUT buffer being encoded (lock released), -1 if none */
  struct {
    uint32_t index;
    int64_t due;
  } pending[PENDING_MAX];
  int npending;
};

static const struct rawfmt* find_raw(uint32_t fourcc) {
  for (int i = 0; i < NRAW; i++)
    if (RAW[i].fourcc == fourcc) return &RAW[i];
  return NULL;
}

static uint32_t align(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

/* bcm2835-codec: raw lines are 32-byte aligned (the ISP's stride rule) */
static void fill_out(struct v4l2_pix_format_mplane* p, uint32_t fourcc, uint32_t w, uint32_t h) {
  const struct rawfmt* r = find_raw(fourcc);
  if (!r) r = &RAW[0];
  /* the application states the colorimetry of what it feeds in (encoder spec) */
  uint32_t cs = p->colorspace, xf = p->xfer_func, enc = p->ycbcr_enc, q = p->quantization;
  memset(p, 0, sizeof(*p));
  p->colorspace = cs ? cs : V4L2_COLORSPACE_SMPTE170M;
  p->xfer_func = xf;
  p->ycbcr_enc = enc;
  p->quantization = q;
  p->width = w;
  p->height = h;
  p->pixelformat = r->fourcc;
  p->field = V4L2_FIELD_NONE;
  p->num_planes = 1;
  p->plane_fmt[0].bytesperline = r->packed ? align(w * 2, 32) : align(w, 32);
  p->plane_fmt[0].sizeimage =
      r->packed ? p->plane_fmt[0].bytesperline * h : p->plane_fmt[0].bytesperline * h * 3 / 2;
}

/* bcm2835-codec's default compressed buffer sizes: 768 KiB above 720p, 512 KiB up to it */
static uint32_t def_comp_size(uint32_t w, uint32_t h) {
  return w * h > 1280 * 720 ? 768 * 1024 : 512 * 1024;
}

static void fill_cap(struct v4l2_pix_format_mplane* p, const struct v4l2_pix_format_mplane* out,
                     uint32_t size) {
  uint32_t w = out->width, h = out->height;
  memset(p, 0, sizeof(*p));
  p->colorspace = out->colorspace; /* the coded stream carries the raw side's colorimetry */
  p->xfer_func = out->xfer_func;
  p->ycbcr_enc = out->ycbcr_enc;
  p->quantization = out->quantization;
  p->width = w;
  p->height = h;
  p->pixelformat = V4L2_PIX_FMT_H264;
  p->field = V4L2_FIELD_NONE;
  p->num_planes = 1;
  p->plane_fmt[0].bytesperline = 0;
  uint32_t min = def_comp_size(w, h);
  p->plane_fmt[0].sizeimage = size > min ? size : min;
}

static void ctrl_changed(void* owner, uint32_t id, int64_t v) {
  struct enc_ctx* e = owner;
  (void)v;
  if (id == V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME) e->force_idr = 1;
  if (id == V4L2_CID_MPEG_VIDEO_BITRATE) e->bitrate_changed = 1;
}

int encoder_open(struct vfile* f) {
  struct enc_ctx* e = calloc(1, sizeof(*e));
  if (!e) return -1;
  e->f = f;
  /* both queues: MMAP + DMABUF; bcm2835-codec asks for at least 1 buffer */
  vq_init(&e->out, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE,
          V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_DMABUF, 0,
          V4L2_BUF_FLAG_TIMESTAMP_COPY, 1);
  vq_init(&e->cap, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
          V4L2_BUF_CAP_SUPPORTS_MMAP | V4L2_BUF_CAP_SUPPORTS_DMABUF, VDEV_DST_OFF_BASE,
          V4L2_BUF_FLAG_TIMESTAMP_COPY, 1);
  fill_out(&e->ofmt, V4L2_PIX_FMT_YUV420, 1280, 720);
  fill_cap(&e->cfmt, &e->ofmt, 0);
  e->out.sizeimage = e->ofmt.plane_fmt[0].sizeimage;
  e->cap.sizeimage = e->cfmt.plane_fmt[0].sizeimage;
  e->tpf = (struct v4l2_fract){1, 30};
  e->last_src = -1;
  e->running_src = -1;
  ctrls_init(&e->ctrls, ENC_CTRLS, sizeof(ENC_CTRLS) / sizeof(ENC_CTRLS[0]));
  e->ctrls.changed = ctrl_changed;
  e->ctrls.owner = e;
  f->enc = e;
  return 0;
}

struct vctrls* encoder_ctrls(struct vfile* f) {
  return f->enc ? &f->enc->ctrls : NULL;
}

struct vqueue* encoder_queue_for_offset(struct vfile* f, uint64_t off) {
  return off >= VDEV_DST_OFF_BASE ? &f->enc->cap : &f->enc->out;
}

/* ---- readiness (v4l2_m2m_poll) ---- */

static int in_flight(const struct vqueue* q) {
  int n = 0;
  for (uint32_t i = 0; i < q->count; i++) n += q->bufs[i].state != VB_DEQUEUED;
  return n;
}

unsigned encoder_poll_mask(struct vfile* f) {
  struct enc_ctx* e = f->enc;
  unsigned m = 0;
  if (!e) return POLLERR;
  if ((!e->out.streaming || !in_flight(&e->out)) &&
      (!e->cap.streaming || (!in_flight(&e->cap) && !e->cap.last_dequeued)))
    return POLLERR;
  if (e->cap.streaming && (e->cap.dlen || e->cap.last_dequeued)) m |= POLLIN | POLLRDNORM;
  if (e->out.streaming && e->out.dlen) m |= POLLOUT | POLLWRNORM;
  return m;
}

/* ---- the worker ---- */

static void queue_eos(struct enc_ctx* e) {
  struct v4l2_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = V4L2_EVENT_EOS;
  ev_queue(e->f, &ev);
}

/* v4l2_m2m_last_buffer_done(): an empty CAPTURE buffer flagged LAST */
static int mark_empty_last(struct enc_ctx* e) {
  struct vbuf* b = vq_take_queued(&e->cap);
  if (!b) return 0;
  b->bytesused = 0;
  b->flags = V4L2_BUF_FLAG_LAST;
  b->sequence = e->cap.sequence++;
  vq_complete(&e->cap, b);
  e->draining = 0;
  e->next_buf_last = 0;
  e->has_stopped = 1;
  queue_eos(e);
  return 1;
}

static struct h264enc* open_x264(struct enc_ctx* e) {
  struct h264enc_cfg cfg = {
      .w = (int)e->ofmt.width,
      .h = (int)e->ofmt.height,
      .fourcc = e->ofmt.pixelformat,
      .bytesperline = e->ofmt.plane_fmt[0].bytesperline,
      .fps_num = (int)e->tpf.denominator,
      .fps_den = (int)e->tpf.numerator,
      .bitrate_bps = (int)ctrls_get(&e->ctrls, V4L2_CID_MPEG_VIDEO_BITRATE),
      .cbr = ctrls_get(&e->ctrls, V4L2_CID_MPEG_VIDEO_BITRATE_MODE) ==
             V4L2_MPEG_VIDEO_BITRATE_MODE_CBR,
      .i_period = (int)ctrls_get(&e->ctrls, V4L2_CID_MPEG_VIDEO_H264_I_PERIOD),
      .profile = (int)ctrls_get(&e->ctrls, V4L2_CID_MPEG_VIDEO_H264_PROFILE),
      .level = (int)ctrls_get(&e->ctrls, V4L2_CID_MPEG_VIDEO_H264_LEVEL),
      .repeat_headers = (int)ctrls_get(&e->ctrls, V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER),
  };
  return h264enc_open(&cfg);
}

static void corrupt(uint8_t* p, uint32_t n) {
  if (n < 64) return;
  for (int i = 0; i < 8; i++)
    p[32 + faults_rand() % (n - 32)] ^= (uint8_t)(1u << (faults_rand() % 8));
}

static void complete_due(struct enc_ctx* e, int64_t now) {
  int k = 0;
  for (int i = 0; i < e->npending; i++) {
    if (e->pending[i].due <= now && k == i) {
      vq_complete(&e->cap, &e->cap.bufs[e->pending[i].index]);
      k++;
    } else {
      break;
    }
  }
  if (!k) return;
  memmove(e->pending, e->pending + k, (size_t)(e->npending - k) * sizeof(e->pending[0]));
  e->npending -= k;
  vdev_update_levels(e->f->dev);
  pthread_cond_broadcast(&e->f->dev->cond);
}

static void* worker(void* arg) {
  struct enc_ctx* e = arg;
  struct vdevice* d = e->f->dev;
  struct h264enc* x = NULL;
  pthread_mutex_lock(&d->lock);
  while (!e->stop) {
    int64_t now = mono_ns();
    complete_due(e, now);
    if (e->next_buf_last && !e->npending && mark_empty_last(e)) {
      vdev_update_levels(d);
      pthread_cond_broadcast(&d->cond);
    }
    int can = e->out.streaming && e->cap.streaming && e->out.qlen && e->cap.qlen &&
              !e->has_stopped && !faults_enc_stopped(now) && e->npending < PENDING_MAX;
    if (!can) {
      if (e->npending) {
        int64_t due = e->pending[0].due;
        struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
        pthread_cond_timedwait(&d->cond, &d->lock, &ts);
      } else if (faults_enc_stopped(now)) {
        int64_t t = now + 20000000;
        struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
        pthread_cond_timedwait(&d->cond, &d->lock, &ts);
      } else {
        pthread_cond_wait(&d->cond, &d->lock);
      }
      continue;
    }
    struct vbuf* src = vq_take_queued(&e->out);
    struct vbuf* dst = vq_take_queued(&e->cap);
    int force = e->force_idr;
    e->force_idr = 0;
    int rebitrate = e->bitrate_changed;
    e->bitrate_changed = 0;
    int bitrate = (int)ctrls_get(&e->ctrls, V4L2_CID_MPEG_VIDEO_BITRATE);
    int refps = e->fps_changed && x;
    e->fps_changed = 0;
    struct v4l2_fract tpf = e->tpf;
    if (!x) {
      x = open_x264(e);
      e->latency_tpf = e->tpf;
    }
    int64_t period = (int64_t)1000000000 * e->latency_tpf.numerator / e->latency_tpf.denominator;
    int64_t due = now + period + faults_enc_lag_ns();
    e->running_src = (int)src->index;
    pthread_mutex_unlock(&d->lock);

    int key = 0;
    long n = -1;
    if (x) {
      if (rebitrate) h264enc_set_bitrate(x, bitrate);
      if (refps) h264enc_set_fps(x, (int)tpf.denominator, (int)tpf.numerator);
      n = h264enc_encode(x, src->kmap, force, (int64_t)e->out.sequence, dst->kmap, dst->length,
                         &key);
      if (n > 0 && faults_corrupt()) corrupt(dst->kmap, (uint32_t)n);
    }

    pthread_mutex_lock(&d->lock);
    e->running_src = -1;
    /* finish the bookkeeping even when asked to stop: STREAMOFF resets buffers only after the join
     */
    if (src->state != VB_ACTIVE || dst->state != VB_ACTIVE) continue;
    dst->timestamp = src->timestamp;
    dst->bytesused = n > 0 ? (uint32_t)n : 0;
    dst->flags =
        (key ? V4L2_BUF_FLAG_KEYFRAME : V4L2_BUF_FLAG_PFRAME) | (n < 0 ? V4L2_BUF_FLAG_ERROR : 0);
    dst->sequence = e->cap.sequence++;
    src->sequence = e->out.sequence++;
    src->flags = 0;
    vq_complete(&e->out, src);
    if (e->draining && (int)src->index == e->last_src) {
      dst->flags |= V4L2_BUF_FLAG_LAST;
      e->draining = 0;
      e->has_stopped = 1;
      e->last_src = -1;
      queue_eos(e);
    }
    e->pending[e->npending].index = dst->index;
    e->pending[e->npending].due = due;
    e->npending++;
    vdev_update_levels(d);
    pthread_cond_broadcast(&d->cond);
  }
  pthread_mutex_unlock(&d->lock);
  h264enc_close(x);
  return NULL;
}

static void stop_worker(struct enc_ctx* e) {
  if (!e->thread_on) return;
  e->stop = 1;
  pthread_cond_broadcast(&e->f->dev->cond);
  pthread_mutex_unlock(&e->f->dev->lock);
  pthread_join(e->thread, NULL);
  pthread_mutex_lock(&e->f->dev->lock);
  e->thread_on = 0;
  e->stop = 0;
  complete_due(e, INT64_MAX); /* frames inside the "VPU" come out now */
}

void encoder_unplug(struct vfile* f) { f->enc->stop = 1; /* the worker exits; release joins it */ }

void encoder_release(struct vfile* f) {
  struct enc_ctx* e = f->enc;
  pthread_mutex_lock(&f->dev->lock);
  stop_worker(e);
  vq_free(&e->out);
  vq_free(&e->cap);
  f->enc = NULL;
  pthread_mutex_unlock(&f->dev->lock);
  free(e);
}

/* ---- ioctls ---- */

static struct vqueue* queue_of(struct enc_ctx* e, uint32_t type) {
  if (type == e->out.type) return &e->out;
  if (type == e->cap.type) return &e->cap;
  return NULL;
}

static int try_fmt(struct enc_ctx* e, struct v4l2_format* f) {
  struct v4l2_pix_format_mplane* p = &f->fmt.pix_mp;
  uint32_t w = p->width < MIN_DIM ? MIN_DIM : p->width > MAX_DIM ? MAX_DIM : p->width;
  uint32_t h = p->height < MIN_DIM ? MIN_DIM : p->height > MAX_DIM ? MAX_DIM : p->height;
  w &= ~1u;
  h &= ~1u;
  if (f->type == e->out.type) {
    fill_out(p, p->pixelformat, w, h);
  } else if (f->type == e->cap.type) {
    /* the coded size follows the OUTPUT (raw) size, per the encoder spec */
    uint32_t size = p->plane_fmt[0].sizeimage;
    fill_cap(p, &e->ofmt, size);
  } else {
    return EINVAL;
  }
  return 0;
}

static int encoder_cmd(struct enc_ctx* e, struct v4l2_encoder_cmd* c, int really) {
  if (c->cmd != V4L2_ENC_CMD_STOP && c->cmd != V4L2_ENC_CMD_START) return EINVAL;
  c->flags = 0;
  memset(&c->raw, 0, sizeof(c->raw));
  if (!really) return 0;
  if (c->cmd == V4L2_ENC_CMD_START) {
    if (e->draining) return EBUSY;
    e->has_stopped = 0;
    e->cap.last_dequeued = 0;
    pthread_cond_broadcast(&e->f->dev->cond);
    return 0;
  }
  /* STOP: v4l2_update_last_buf_state() */
  if (!e->out.streaming || !e->cap.streaming) return 0;
  if (e->draining || e->has_stopped) return 0;
  e->draining = 1;
  if (e->out.qlen) {
    e->last_src = (int)e->out.queued[(e->out.qhead + e->out.qlen - 1) % VDEV_MAX_BUFS];
    return 0;
  }
  if (e->running_src >=
      0) { /* a job is running (the m2m core's TRANS_RUNNING): its frame is last */
    e->last_src = e->running_src;
    return 0;
  }
  if (e->npending) { /* the last frame is still inside: it becomes LAST */
    struct vbuf* b = &e->cap.bufs[e->pending[e->npending - 1].index];
    b->flags |= V4L2_BUF_FLAG_LAST;
    e->draining = 0;
    e->has_stopped = 1;
    queue_eos(e);
    return 0;
  }
  e->next_buf_last = 1;
  pthread_cond_broadcast(&e->f->dev->cond);
  return 0;
}

static int querycap(struct v4l2_capability* cap) {
  memset(cap, 0, sizeof(*cap));
  snprintf((char*)cap->driver, sizeof(cap->driver), ENC_DRIVER);
  snprintf((char*)cap->card, sizeof(cap->card), ENC_CARD);
  snprintf((char*)cap->bus_info, sizeof(cap->bus_info), ENC_BUS);
  cap->version = KVER;
  cap->device_caps = V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING;
  cap->device_caps |= V4L2_CAP_EXT_PIX_FORMAT; /* added by v4l_querycap() for every driver */
  cap->capabilities = cap->device_caps | V4L2_CAP_DEVICE_CAPS;
  return 0;
}

int encoder_ioctl(struct vfile* f, unsigned long req, void* arg) {
  struct enc_ctx* e = f->enc;
  switch (req) {
    case VIDIOC_QUERYCAP:
      return querycap(arg);
    case VIDIOC_ENUM_FMT: {
      struct v4l2_fmtdesc* d = arg;
      uint32_t idx = d->index, type = d->type;
      uint32_t fourcc, flags = 0;
      const char* desc;
      if (type == e->out.type && idx < NRAW) {
        fourcc = RAW[idx].fourcc;
        desc = RAW[idx].desc;
      } else if (type == e->cap.type && idx == 0) {
        fourcc = V4L2_PIX_FMT_H264;
        desc = "H.264";
        flags = V4L2_FMT_FLAG_COMPRESSED;
      } else {
        return EINVAL;
      }
      memset(d, 0, sizeof(*d));
      d->index = idx;
      d->type = type;
      d->pixelformat = fourcc;
      d->flags = flags;
      snprintf((char*)d->description, sizeof(d->description), "%s", desc);
      return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
      struct v4l2_frmsizeenum* s = arg;
      if (s->index != 0 || (s->pixel_format != V4L2_PIX_FMT_H264 && !find_raw(s->pixel_format)))
        return EINVAL;
      s->type = V4L2_FRMSIZE_TYPE_STEPWISE;
      s->stepwise = (struct v4l2_frmsize_stepwise){MIN_DIM, MAX_DIM, 2, MIN_DIM, MAX_DIM, 2};
      memset(s->reserved, 0, sizeof(s->reserved));
      return 0;
    }
    case VIDIOC_G_FMT: {
      struct v4l2_format* fm = arg;
      if (fm->type == e->out.type)
        fm->fmt.pix_mp = e->ofmt;
      else if (fm->type == e->cap.type)
        fm->fmt.pix_mp = e->cfmt;
      else
        return EINVAL;
      return 0;
    }
    case VIDIOC_TRY_FMT:
      return try_fmt(e, arg);
    case VIDIOC_S_FMT: {
      struct v4l2_format* fm = arg;
      int err = try_fmt(e, fm);
      if (err) return err;
      struct vqueue* q = queue_of(e, fm->type);
      if (q->count) return EBUSY; /* vb2_is_busy() */
      if (q == &e->out) {
        e->ofmt = fm->fmt.pix_mp;
        e->out.sizeimage = e->ofmt.plane_fmt[0].sizeimage;
        fill_cap(&e->cfmt, &e->ofmt, e->cfmt.plane_fmt[0].sizeimage);
        if (!e->cap.count) e->cap.sizeimage = e->cfmt.plane_fmt[0].sizeimage;
      } else {
        e->cfmt = fm->fmt.pix_mp;
        e->cap.sizeimage = e->cfmt.plane_fmt[0].sizeimage;
      }
      return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
      struct v4l2_streamparm* p = arg;
      if (p->type != e->out.type) return EINVAL;
      if (req == VIDIOC_S_PARM) {
        /* bcm2835-codec: while streaming the rate goes to the VPU at once
         * (MMAL_PARAMETER_VIDEO_FRAME_RATE). */
        struct v4l2_fract t = p->parm.output.timeperframe;
        if (t.numerator && t.denominator) {
          e->tpf = t;
          e->fps_changed = 1;
        }
      }
      memset(&p->parm, 0, sizeof(p->parm));
      p->parm.output.capability = V4L2_CAP_TIMEPERFRAME;
      p->parm.output.timeperframe = e->tpf;
      return 0;
    }
    case VIDIOC_REQBUFS: {
      struct v4l2_requestbuffers* r = arg;
      struct vqueue* q = queue_of(e, r->type);
      if (!q) return EINVAL;
      return vq_reqbufs(q, f, r);
    }
    case VIDIOC_CREATE_BUFS: {
      struct v4l2_create_buffers* cb = arg;
      struct vqueue* q = queue_of(e, cb->format.type);
      if (!q) return EINVAL;
      if (cb->count && cb->format.fmt.pix_mp.num_planes != 1) return EINVAL; /* one plane only */
      return vq_create_bufs(q, f, cb, cb->format.fmt.pix_mp.plane_fmt[0].sizeimage);
    }
    case VIDIOC_QUERYBUF: {
      struct vqueue* q = queue_of(e, ((struct v4l2_buffer*)arg)->type);
      return q ? vq_querybuf(q, arg) : EINVAL;
    }
    case VIDIOC_QBUF: {
      struct v4l2_buffer* b = arg;
      struct vqueue* q = queue_of(e, b->type);
      if (!q) return EINVAL;
      int err = vq_qbuf(q, f, b);
      if (!err && q == &e->cap && e->next_buf_last) pthread_cond_broadcast(&f->dev->cond);
      return err;
    }
    case VIDIOC_DQBUF: {
      struct v4l2_buffer* b = arg;
      struct vqueue* q = queue_of(e, b->type);
      if (!q) return EINVAL;
      if (q == &e->cap && e->has_stopped && !q->dlen && q->last_dequeued) return EPIPE;
      return vq_dqbuf(q, f, b, file_nonblock(f));
    }
    case VIDIOC_EXPBUF: {
      struct v4l2_exportbuffer* x = arg;
      struct vqueue* q = queue_of(e, x->type);
      return q ? vq_expbuf(q, x) : EINVAL;
    }
    case VIDIOC_STREAMON: {
      struct vqueue* q = queue_of(e, *(uint32_t*)arg);
      if (!q) return EINVAL;
      int err = vq_streamon(q, f);
      if (err) return err;
      if (q == &e->cap) e->has_stopped = 0;
      if (!e->thread_on) {
        e->stop = 0;
        if (pthread_create(&e->thread, NULL, worker, e) != 0) return ENOMEM;
        e->thread_on = 1;
      }
      pthread_cond_broadcast(&f->dev->cond);
      vdev_update_levels(f->dev);
      return 0;
    }
    case VIDIOC_STREAMOFF: {
      struct vqueue* q = queue_of(e, *(uint32_t*)arg);
      if (!q) return EINVAL;
      int err = vq_owner_check(q, f);
      if (err) return err;
      stop_worker(e); /* nothing may be mid-encode when buffers return */
      err = vq_streamoff(q, f);
      e->draining = e->next_buf_last = 0;
      e->last_src = -1;
      if (q == &e->cap) e->has_stopped = 0;
      if (e->out.streaming || e->cap.streaming) {
        if (pthread_create(&e->thread, NULL, worker, e) == 0) e->thread_on = 1;
      }
      vdev_update_levels(f->dev);
      return err;
    }
    case VIDIOC_ENCODER_CMD:
      return encoder_cmd(e, arg, 1);
    case VIDIOC_TRY_ENCODER_CMD:
      return encoder_cmd(e, arg, 0);
    default:
      return ENOTTY;
  }
}
