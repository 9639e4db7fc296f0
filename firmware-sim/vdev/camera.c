/* The virtual camera, /dev/video0: a single-planar VIDEO_CAPTURE + STREAMING
 * device in the manner of vivid's webcam input and uvcvideo: discrete frame
 * sizes and intervals, S_FMT adjusting to the nearest size
 * (v4l2_find_nearest_size), S_PARM to the nearest interval, one owner of the
 * queue (EBUSY for others), frames produced in real time by a sensor thread.
 *
 * Timing: the sensor runs on absolute deadlines (deadline += period, never
 * now + period) so no error accumulates; a frame's timestamp is its
 * deadline, the instant its exposure completes, in CLOCK_MONOTONIC like the
 * kernel's (V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC), and the frame stamp carries
 * the same instant in CLOCK_REALTIME. The sequence counts sensor frames, so
 * a frame with no buffer queued (or dropped by a fault) leaves a gap, as
 * uvcvideo and vivid do. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrls.h"
#include "faults.h"
#include "h264enc.h"
#include "pattern.h"
#include "vdev.h"

#define CAM_DRIVER "camgw-vcam"
#define CAM_BUS "platform:camgw-vcam"
#define KVER ((6u << 16) | (1u << 8))

struct camfmt {
  uint32_t fourcc;
  const char* desc;
  uint32_t flags;
};

static const struct camfmt FORMATS[] = {
    {V4L2_PIX_FMT_YUYV, "YUYV 4:2:2", 0},
    {V4L2_PIX_FMT_NV12, "Y/CbCr 4:2:0", 0},
    {V4L2_PIX_FMT_YUV420, "Planar YUV 4:2:0", 0},
    {V4L2_PIX_FMT_H264, "H.264", V4L2_FMT_FLAG_COMPRESSED},
};
static const int SIZES[][2] = {{640, 480}, {1280, 720}, {1920, 1080}};
static const int FPS[] = {30, 15}; /* intervals 1/30, 1/15: fastest first, as UVC lists them */

#define NSIZES 3
#define NFPS 2

/* H.264 mode controls, like a UVC 1.5 camera's encoding unit */
static const char* const PROFILES[] = {
    "Baseline", "Constrained Baseline", "Main", "Extended", "High", NULL};
static const struct vctrl_def CAM_CTRLS[] = {
    {V4L2_CID_CODEC_CLASS, V4L2_CTRL_TYPE_CTRL_CLASS, "Codec Controls", 0, 0, 0, 0, 0, NULL, 0},
    {V4L2_CID_MPEG_VIDEO_BITRATE, V4L2_CTRL_TYPE_INTEGER, "Video Bitrate", 25000, 25000000, 25000,
     2000000, 0, NULL, 0},
    {V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, V4L2_CTRL_TYPE_BUTTON, "Force Key Frame", 0, 0, 0, 0, 0,
     NULL, 0},
    {V4L2_CID_MPEG_VIDEO_H264_I_PERIOD, V4L2_CTRL_TYPE_INTEGER, "H264 I-Frame Period", 0,
     2147483647, 1, 60, 0, NULL, 0},
    {V4L2_CID_MPEG_VIDEO_H264_PROFILE, V4L2_CTRL_TYPE_MENU, "H264 Profile", 0, 4, 1, 1, 0x8,
     PROFILES, 0},
};

struct camera {
  struct vdevice* dev;
  int uvc_h264;
  int nformats;
  struct v4l2_pix_format fmt;
  int fps;
  struct vqueue q;
  pthread_t thread;
  int thread_on, stop;
  int eio_pending; /* DQBUFs that will fail with EIO (fault) */
  int force_idr;
  int bitrate_changed;
  struct vctrls ctrls;
  uint32_t seq;
  enum pattern_scene scene; /* CAMGW_SIM_SCENE, read once at creation */
};

static const struct camfmt* find_fmt(const struct camera* c, uint32_t fourcc) {
  for (int i = 0; i < c->nformats; i++)
    if (FORMATS[i].fourcc == fourcc) return &FORMATS[i];
  return NULL;
}

static void fill_pix(struct v4l2_pix_format* p, uint32_t fourcc, int w, int h) {
  memset(p, 0, sizeof(*p));
  p->width = (uint32_t)w;
  p->height = (uint32_t)h;
  p->pixelformat = fourcc;
  p->field = V4L2_FIELD_NONE;
  if (fourcc == V4L2_PIX_FMT_H264) {
    p->bytesperline = 0;
    p->sizeimage = (uint32_t)(w * h); /* dwMaxVideoFrameSize-like bound for one access unit */
  } else {
    p->bytesperline = pattern_bytesperline(fourcc, w);
    p->sizeimage = pattern_sizeimage(fourcc, w, h);
  }
  p->colorspace = V4L2_COLORSPACE_SRGB;
  p->ycbcr_enc = V4L2_YCBCR_ENC_601;
  p->quantization = V4L2_QUANTIZATION_LIM_RANGE;
  p->xfer_func = V4L2_XFER_FUNC_SRGB;
  p->priv = V4L2_PIX_FMT_PRIV_MAGIC;
}

static void changed(void* owner, uint32_t id, int64_t v) {
  struct camera* c = owner;
  (void)v;
  if (id == V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME) c->force_idr = 1;
  if (id == V4L2_CID_MPEG_VIDEO_BITRATE) c->bitrate_changed = 1;
}

int camera_create(struct vdevice* d, int uvc_h264) {
  struct camera* c = calloc(1, sizeof(*c));
  if (!c) return -1;
  c->dev = d;
  c->uvc_h264 = uvc_h264;
  const char* scene = getenv("CAMGW_SIM_SCENE");
  int parsed = pattern_scene_parse(scene);
  if (parsed < 0)
    fprintf(stderr, "camgw-vdev: unknown CAMGW_SIM_SCENE '%s' (bars|realistic): using bars\n",
            scene);
  c->scene = parsed < 0 ? PATTERN_SCENE_BARS : (enum pattern_scene)parsed;
  c->nformats = uvc_h264 ? 4 : 3;
  c->fps = 30;
  fill_pix(&c->fmt, uvc_h264 ? V4L2_PIX_FMT_H264 : V4L2_PIX_FMT_YUYV, 1280, 720);
  /* vivid's capture queue: min 2 buffers; MMAP (+EXPBUF) only */
  vq_init(&c->q, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_BUF_CAP_SUPPORTS_MMAP, 0,
          V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC, 2);
  c->q.sizeimage = c->fmt.sizeimage;
  ctrls_init(&c->ctrls, CAM_CTRLS, sizeof(CAM_CTRLS) / sizeof(CAM_CTRLS[0]));
  c->ctrls.changed = changed;
  c->ctrls.owner = c;
  d->priv = c;
  return 0;
}

const char* fs_card_name(const struct vdevice* d) {
  if (d->kind == VDEV_ENCODER) return "bcm2835-codec-encode";
  const struct camera* c = d->priv;
  return c && c->uvc_h264 ? "camgw virtual camera (H.264)" : "camgw virtual camera";
}

struct vctrls* camera_ctrls(struct vfile* f) {
  struct camera* c = f->dev->priv;
  return c->uvc_h264 ? &c->ctrls : NULL;
}

struct vqueue* camera_queue(struct vfile* f) {
  struct camera* c = f->dev->priv;
  return &c->q;
}

/* ---- the sensor thread ---- */

static struct timespec ts_of(int64_t ns) {
  return (struct timespec){(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
}

static struct h264enc* open_h264(struct camera* c) {
  struct h264enc_cfg cfg = {
      .w = (int)c->fmt.width,
      .h = (int)c->fmt.height,
      .fourcc = V4L2_PIX_FMT_YUV420,
      .bytesperline = c->fmt.width,
      .fps_num = c->fps,
      .fps_den = 1,
      .bitrate_bps = (int)ctrls_get(&c->ctrls, V4L2_CID_MPEG_VIDEO_BITRATE),
      .cbr = 1,
      .i_period = (int)ctrls_get(&c->ctrls, V4L2_CID_MPEG_VIDEO_H264_I_PERIOD),
      .profile = (int)ctrls_get(&c->ctrls, V4L2_CID_MPEG_VIDEO_H264_PROFILE),
      .level = V4L2_MPEG_VIDEO_H264_LEVEL_4_0,
      .repeat_headers = 1, /* UVC H.264 cameras repeat SPS/PPS with every IDR */
  };
  return h264enc_open(&cfg);
}

static void* sensor(void* arg) {
  struct camera* c = arg;
  struct vdevice* d = c->dev;
  int h264 = c->fmt.pixelformat == V4L2_PIX_FMT_H264;
  struct pattern pat;
  uint32_t draw_fourcc = h264 ? V4L2_PIX_FMT_YUV420 : c->fmt.pixelformat;
  int w = (int)c->fmt.width, h = (int)c->fmt.height;
  uint8_t* scratch = h264 ? malloc((size_t)pattern_sizeimage(draw_fourcc, w, h)) : NULL;
  struct h264enc* enc = h264 ? open_h264(c) : NULL;
  int ok =
      pattern_init(&pat, draw_fourcc, w, h, c->fps, c->scene) == 0 && (!h264 || (scratch && enc));

  pthread_mutex_lock(&d->lock);
  int64_t deadline = mono_ns();
  while (ok && !c->stop && d->present) {
    int64_t period = 1000000000 / c->fps;
    /* a sensor clock X ppm fast ends each frame period X ppm early */
    period -= (int64_t)((double)period * faults_drift_ppm() / 1e6);
    deadline += period;
    deadline += faults_take_stall_ns(deadline);
    struct timespec ts = ts_of(deadline);
    while (!c->stop && d->present && mono_ns() < deadline)
      pthread_cond_timedwait(&d->cond, &d->lock, &ts);
    if (c->stop || !d->present) break;
    /* Woken late (a loaded machine): the sensor still exposed on time, so the
     * frame keeps its deadline timestamp and is delivered late, as a DMA'd
     * frame would be. Only after a long absence (a stopped process) are the
     * missed frames skipped, leaving a gap in the sequence. */
    int64_t now = mono_ns();
    if (now - deadline > 1000000000) {
      while (now - deadline > period) {
        deadline += period;
        c->seq++;
      }
    }
    uint32_t seq = c->seq++;
    if (faults_drop_frame()) continue;
    struct vbuf* b = vq_take_queued(&c->q);
    if (!b) continue; /* no buffer: the frame is lost, the sequence shows the gap */
    if (faults_eio()) {
      /* the transfer failed: the buffer goes back, DQBUF reports EIO */
      b->state = VB_QUEUED;
      c->q.queued[(c->q.qhead + c->q.qlen) % VDEV_MAX_BUFS] = b->index;
      c->q.qlen++;
      c->eio_pending++;
      vdev_update_levels(d);
      pthread_cond_broadcast(&d->cond);
      continue;
    }
    int64_t real_at = deadline + (real_ns() - mono_ns());
    int force = c->force_idr;
    c->force_idr = 0;
    int rebitrate = c->bitrate_changed;
    c->bitrate_changed = 0;
    int bitrate = (int)ctrls_get(&c->ctrls, V4L2_CID_MPEG_VIDEO_BITRATE);
    pthread_mutex_unlock(&d->lock);

    uint32_t used = c->fmt.sizeimage;
    int key = 0;
    if (h264) {
      pattern_draw(&pat, scratch, seq, (uint64_t)(real_at / 1000));
      if (rebitrate) h264enc_set_bitrate(enc, bitrate);
      long n = h264enc_encode(enc, scratch, force, seq, b->kmap, b->length, &key);
      used = n > 0 ? (uint32_t)n : 0;
    } else {
      pattern_draw(&pat, b->kmap, seq, (uint64_t)(real_at / 1000));
    }

    pthread_mutex_lock(&d->lock);
    b->sequence = seq;
    b->timestamp.tv_sec = deadline / 1000000000;
    b->timestamp.tv_usec = (deadline % 1000000000) / 1000;
    b->bytesused = used;
    b->flags = key ? V4L2_BUF_FLAG_KEYFRAME : 0;
    if (h264 && !used) b->flags |= V4L2_BUF_FLAG_ERROR;
    vq_complete(&c->q, b);
    vdev_update_levels(d);
    pthread_cond_broadcast(&d->cond);
  }
  pthread_mutex_unlock(&d->lock);
  pattern_free(&pat);
  h264enc_close(enc);
  free(scratch);
  return NULL;
}

/* Stop the sensor; called with the lock held, returns with it held. */
static void stop_sensor(struct camera* c) {
  if (!c->thread_on) return;
  c->stop = 1;
  pthread_cond_broadcast(&c->dev->cond);
  pthread_mutex_unlock(&c->dev->lock);
  pthread_join(c->thread, NULL);
  pthread_mutex_lock(&c->dev->lock);
  c->thread_on = 0;
}

void camera_unplug(struct vdevice* d) {
  struct camera* c = d->priv;
  c->stop = 1; /* the sensor thread sees !present and ends; the reaper joins it */
}

/* After an unplug: free what the stale owner held so a new open can stream. */
void camera_reap(struct vdevice* d) {
  struct camera* c = d->priv;
  pthread_mutex_lock(&d->lock);
  stop_sensor(c);
  c->q.streaming = 0;
  vq_free(&c->q);
  c->q.owner = NULL;
  c->eio_pending = 0;
  pthread_mutex_unlock(&d->lock);
}

void camera_release(struct vfile* f) {
  struct camera* c = f->dev->priv;
  pthread_mutex_lock(&f->dev->lock);
  if (c->q.owner == f) {
    stop_sensor(c);
    if (c->q.owner == f) {
      c->q.streaming = 0;
      vq_free(&c->q);
      c->q.owner = NULL;
      c->eio_pending = 0;
    }
  }
  pthread_mutex_unlock(&f->dev->lock);
}

unsigned camera_poll_mask(struct vfile* f) {
  struct camera* c = f->dev->priv;
  if (!c->q.streaming) return POLLERR; /* vb2_core_poll: nothing to wait for */
  if (c->q.owner == f && (c->eio_pending || c->q.dlen)) return POLLIN | POLLRDNORM;
  return 0;
}

/* ---- ioctls ---- */

static int try_fmt(struct camera* c, struct v4l2_format* f) {
  if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
  struct v4l2_pix_format* p = &f->fmt.pix;
  const struct camfmt* cf = find_fmt(c, p->pixelformat);
  uint32_t fourcc =
      cf ? cf->fourcc : FORMATS[0].fourcc; /* unsupported: substitute, as drivers do */
  int best = 0;
  long bestd = -1;
  for (int i = 0; i < NSIZES; i++) {
    long dist =
        labs((long)SIZES[i][0] - (long)p->width) + labs((long)SIZES[i][1] - (long)p->height);
    if (bestd < 0 || dist < bestd) {
      best = i;
      bestd = dist;
    }
  }
  fill_pix(p, fourcc, SIZES[best][0], SIZES[best][1]);
  return 0;
}

static int nearest_fps(const struct v4l2_fract* t) {
  if (!t->numerator || !t->denominator) return 30;
  double want = (double)t->denominator / t->numerator;
  return want >= 22.5 ? 30 : 15;
}

static int querycap(struct v4l2_capability* cap, int uvc) {
  memset(cap, 0, sizeof(*cap));
  snprintf((char*)cap->driver, sizeof(cap->driver), CAM_DRIVER);
  snprintf((char*)cap->card, sizeof(cap->card), "%s",
           uvc ? "camgw virtual camera (H.264)" : "camgw virtual camera");
  snprintf((char*)cap->bus_info, sizeof(cap->bus_info), CAM_BUS);
  cap->version = KVER;
  cap->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
  cap->device_caps |= V4L2_CAP_EXT_PIX_FORMAT; /* added by v4l_querycap() for every driver */
  cap->capabilities = cap->device_caps | V4L2_CAP_DEVICE_CAPS;
  return 0;
}

int camera_ioctl(struct vfile* f, unsigned long req, void* arg) {
  struct camera* c = f->dev->priv;
  struct vqueue* q = &c->q;
  switch (req) {
    case VIDIOC_QUERYCAP:
      return querycap(arg, c->uvc_h264);
    case VIDIOC_ENUM_FMT: {
      struct v4l2_fmtdesc* d = arg;
      if (d->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || d->index >= (uint32_t)c->nformats)
        return EINVAL;
      uint32_t idx = d->index, type = d->type;
      memset(d, 0, sizeof(*d));
      d->index = idx;
      d->type = type;
      d->pixelformat = FORMATS[idx].fourcc;
      d->flags = FORMATS[idx].flags;
      snprintf((char*)d->description, sizeof(d->description), "%s", FORMATS[idx].desc);
      return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
      struct v4l2_frmsizeenum* s = arg;
      if (!find_fmt(c, s->pixel_format) || s->index >= NSIZES) return EINVAL;
      s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
      s->discrete.width = (uint32_t)SIZES[s->index][0];
      s->discrete.height = (uint32_t)SIZES[s->index][1];
      memset(s->reserved, 0, sizeof(s->reserved));
      return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
      struct v4l2_frmivalenum* iv = arg;
      int size_ok = 0;
      for (int i = 0; i < NSIZES; i++)
        if ((uint32_t)SIZES[i][0] == iv->width && (uint32_t)SIZES[i][1] == iv->height) size_ok = 1;
      if (!find_fmt(c, iv->pixel_format) || !size_ok || iv->index >= NFPS) return EINVAL;
      iv->type = V4L2_FRMIVAL_TYPE_DISCRETE;
      iv->discrete.numerator = 1;
      iv->discrete.denominator = (uint32_t)FPS[iv->index];
      memset(iv->reserved, 0, sizeof(iv->reserved));
      return 0;
    }
    case VIDIOC_G_FMT: {
      struct v4l2_format* fm = arg;
      if (fm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
      fm->fmt.pix = c->fmt;
      return 0;
    }
    case VIDIOC_TRY_FMT:
      return try_fmt(c, arg);
    case VIDIOC_S_FMT: {
      int err = try_fmt(c, arg);
      if (err) return err;
      struct v4l2_format* fm = arg;
      if (memcmp(&fm->fmt.pix, &c->fmt, sizeof(c->fmt)) == 0) return 0;
      if (q->count || vq_owner_check(q, f)) return EBUSY; /* vb2_is_busy() */
      c->fmt = fm->fmt.pix;
      q->sizeimage = c->fmt.sizeimage;
      return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
      struct v4l2_streamparm* p = arg;
      if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
      if (req == VIDIOC_S_PARM) c->fps = nearest_fps(&p->parm.capture.timeperframe);
      memset(&p->parm, 0, sizeof(p->parm));
      p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
      p->parm.capture.timeperframe.numerator = 1;
      p->parm.capture.timeperframe.denominator = (uint32_t)c->fps;
      return 0;
    }
    case VIDIOC_ENUMINPUT: {
      struct v4l2_input* in = arg;
      if (in->index != 0) return EINVAL;
      memset(in, 0, sizeof(*in));
      snprintf((char*)in->name, sizeof(in->name), "Camera 0");
      in->type = V4L2_INPUT_TYPE_CAMERA;
      return 0;
    }
    case VIDIOC_G_INPUT:
      *(int*)arg = 0;
      return 0;
    case VIDIOC_S_INPUT:
      return *(int*)arg == 0 ? 0 : EINVAL;
    case VIDIOC_REQBUFS: {
      struct v4l2_requestbuffers* r = arg;
      q->sizeimage = c->fmt.sizeimage;
      int err = vq_reqbufs(q, f, r);
      if (!err) c->eio_pending = 0;
      return err;
    }
    case VIDIOC_CREATE_BUFS: {
      struct v4l2_create_buffers* cb = arg;
      if (cb->format.type != q->type) return EINVAL;
      return vq_create_bufs(q, f, cb, cb->format.fmt.pix.sizeimage);
    }
    case VIDIOC_QUERYBUF:
      return vq_querybuf(q, arg);
    case VIDIOC_QBUF: {
      int err = vq_qbuf(q, f, arg);
      struct v4l2_buffer* b = arg;
      if (!err) b->field = V4L2_FIELD_NONE;
      return err;
    }
    case VIDIOC_DQBUF: {
      struct v4l2_buffer* b = arg;
      if (b->type == q->type && q->owner == f && q->streaming && c->eio_pending) {
        c->eio_pending--;
        vdev_update_levels(f->dev);
        return EIO;
      }
      return vq_dqbuf(q, f, arg, file_nonblock(f));
    }
    case VIDIOC_EXPBUF: {
      int err = vq_owner_check(q, f);
      return err ? err : vq_expbuf(q, arg);
    }
    case VIDIOC_STREAMON: {
      if (*(uint32_t*)arg != q->type) return EINVAL;
      int was = q->streaming;
      int err = vq_streamon(q, f);
      if (err || was) return err;
      c->seq = 0;
      c->stop = 0;
      c->force_idr = 1;
      if (pthread_create(&c->thread, NULL, sensor, c) != 0) {
        q->streaming = 0;
        return ENOMEM;
      }
      c->thread_on = 1;
      vdev_update_levels(f->dev);
      return 0;
    }
    case VIDIOC_STREAMOFF: {
      if (*(uint32_t*)arg != q->type) return EINVAL;
      int err = vq_owner_check(q, f);
      if (err) return err;
      stop_sensor(c);
      c->eio_pending = 0;
      err = vq_streamoff(q, f);
      vdev_update_levels(f->dev);
      return err;
    }
    default:
      return ENOTTY;
  }
}
