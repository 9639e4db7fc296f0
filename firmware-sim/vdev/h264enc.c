/* libx264 wrapper (h264enc.h). Settings mirror what a hardware encoder does
 * for real-time use: preset ultrafast + tune zerolatency (no B-frames, no
 * lookahead, no frame threads: one frame in, one access unit out), scene-cut
 * off so IDRs come only from the I-period or a forced key frame, and
 * SPS/PPS before every IDR when REPEAT_SEQ_HEADER is set, else once at the
 * start of the stream (bcm2835-codec's V4L2_MPEG_VIDEO_HEADER_MODE_JOINED_WITH_1ST_FRAME). */
#define _GNU_SOURCE
#include "h264enc.h"

#include <linux/videodev2.h>
#include <stdlib.h>
#include <string.h>
#include <x264.h>

struct h264enc {
  x264_t* x;
  x264_param_t p;
  struct h264enc_cfg cfg;
  x264_picture_t pic;
  uint8_t* i420; /* YUYV converted here */
  int64_t frames;
  int bps;          /* the target, as the control set it */
  double fps, fps0; /* the rate it is told now (h264enc_set_fps) and the one it opened at */
};

static const int LEVEL_IDC[] = {10, 9, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51};

static void rate(x264_param_t* p, int bps, int cbr) {
  int kbps = bps / 1000 > 0 ? bps / 1000 : 1;
  p->rc.i_rc_method = X264_RC_ABR;
  p->rc.i_bitrate = kbps;
  /* CBR: the VBV caps every window at the target; VBR: peaks to twice it */
  p->rc.i_vbv_max_bitrate = cbr ? kbps : 2 * kbps;
  p->rc.i_vbv_buffer_size = kbps;
  p->rc.f_rate_tolerance = cbr ? 0.1f : 1.0f;
  p->rc.b_filler = 0;
}

struct h264enc* h264enc_open(const struct h264enc_cfg* cfg) {
  struct h264enc* e = calloc(1, sizeof(*e));
  if (!e) return NULL;
  e->cfg = *cfg;
  x264_param_t* p = &e->p;
  if (x264_param_default_preset(p, "ultrafast", "zerolatency") < 0) goto fail;
  p->i_width = cfg->w;
  p->i_height = cfg->h;
  switch (cfg->fourcc) {
    case V4L2_PIX_FMT_NV12:
      p->i_csp = X264_CSP_NV12;
      break;
    case V4L2_PIX_FMT_NV21:
      p->i_csp = X264_CSP_NV21;
      break;
    case V4L2_PIX_FMT_YVU420:
      p->i_csp = X264_CSP_YV12;
      break;
    default:
      p->i_csp = X264_CSP_I420;
      break;
  }
  p->i_fps_num = (uint32_t)(cfg->fps_num > 0 ? cfg->fps_num : 30);
  p->i_fps_den = (uint32_t)(cfg->fps_den > 0 ? cfg->fps_den : 1);
  p->i_timebase_num = p->i_fps_den;
  p->i_timebase_den = p->i_fps_num;
  p->b_vfr_input = 0;
  p->i_threads = 1;
  p->b_sliced_threads = 0;
  p->i_bframe = 0;
  p->rc.i_lookahead = 0;
  p->i_sync_lookahead = 0;
  p->i_scenecut_threshold = 0;
  p->i_keyint_max = cfg->i_period > 0 ? cfg->i_period : X264_KEYINT_MAX_INFINITE;
  p->i_keyint_min = 1;
  p->b_repeat_headers = cfg->repeat_headers;
  p->b_annexb = 1;
  p->b_aud = 0;
  p->i_log_level = X264_LOG_NONE;
  if (cfg->level >= 0 && cfg->level < (int)(sizeof(LEVEL_IDC) / sizeof(LEVEL_IDC[0])))
    p->i_level_idc = LEVEL_IDC[cfg->level];
  e->bps = cfg->bitrate_bps;
  e->fps = e->fps0 = (double)p->i_fps_num / p->i_fps_den;
  rate(p, cfg->bitrate_bps, cfg->cbr);
  const char* prof = "high";
  if (cfg->profile == V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE ||
      cfg->profile == V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE)
    prof = "baseline";
  else if (cfg->profile == V4L2_MPEG_VIDEO_H264_PROFILE_MAIN)
    prof = "main";
  if (x264_param_apply_profile(p, prof) < 0) goto fail;
  e->x = x264_encoder_open(p);
  if (!e->x) goto fail;
  x264_picture_init(&e->pic);
  e->pic.img.i_csp = p->i_csp;
  if (cfg->fourcc == V4L2_PIX_FMT_YUYV) {
    e->i420 = malloc((size_t)cfg->w * cfg->h * 3 / 2);
    if (!e->i420) goto fail;
  }
  return e;
fail:
  h264enc_close(e);
  return NULL;
}

void h264enc_close(struct h264enc* e) {
  if (!e) return;
  if (e->x) x264_encoder_close(e->x);
  free(e->i420);
  free(e);
}

/* x264_encoder_reconfig cannot change i_fps_num, and without lookahead
 * every frame lasts the nominal 1/fps for its rate control: the rate it is
 * told is scaled by opened/actual fps so each frame gets bitrate/actual fps,
 * as the VPU's rate control does with MMAL_PARAMETER_VIDEO_FRAME_RATE. The
 * VBV buffer is bits, not a rate: not scaled. */
static void reconfig(struct h264enc* e) {
  double scale = e->fps > 0 ? e->fps0 / e->fps : 1.0;
  rate(&e->p, (int)(e->bps * scale), e->cfg.cbr);
  e->p.rc.i_vbv_buffer_size = e->bps / 1000 > 0 ? e->bps / 1000 : 1;
  x264_encoder_reconfig(e->x, &e->p);
}

void h264enc_set_bitrate(struct h264enc* e, int bps) {
  e->bps = bps;
  reconfig(e);
}

void h264enc_set_fps(struct h264enc* e, int fps_num, int fps_den) {
  if (fps_num <= 0 || fps_den <= 0) return;
  e->fps = (double)fps_num / fps_den;
  reconfig(e);
}

static void yuyv_to_i420(const uint8_t* in, uint32_t bpl, int w, int h, uint8_t* out) {
  uint8_t *y = out, *u = out + w * h, *v = u + (w / 2) * (h / 2);
  for (int r = 0; r < h; r++) {
    const uint8_t* s = in + r * bpl;
    for (int x = 0; x < w; x++) y[r * w + x] = s[2 * x];
    if (r & 1) continue;
    const uint8_t* s2 = r + 1 < h ? s + bpl : s;
    for (int x = 0; x < w / 2; x++) {
      u[(r / 2) * (w / 2) + x] = (uint8_t)((s[4 * x + 1] + s2[4 * x + 1] + 1) / 2);
      v[(r / 2) * (w / 2) + x] = (uint8_t)((s[4 * x + 3] + s2[4 * x + 3] + 1) / 2);
    }
  }
}

long h264enc_encode(struct h264enc* e, const uint8_t* in, int force_idr, int64_t pts, uint8_t* out,
                    size_t cap, int* keyframe) {
  const struct h264enc_cfg* c = &e->cfg;
  x264_picture_t* pic = &e->pic;
  int stride = (int)c->bytesperline;
  if (c->fourcc == V4L2_PIX_FMT_YUYV) {
    yuyv_to_i420(in, c->bytesperline, c->w, c->h, e->i420);
    in = e->i420;
    stride = c->w;
  }
  pic->img.plane[0] = (uint8_t*)in;
  pic->img.i_stride[0] = stride;
  const uint8_t* chroma = in + (size_t)stride * c->h;
  if (e->p.i_csp == X264_CSP_NV12 || e->p.i_csp == X264_CSP_NV21) {
    pic->img.i_plane = 2;
    pic->img.plane[1] = (uint8_t*)chroma;
    pic->img.i_stride[1] = stride;
  } else {
    pic->img.i_plane = 3;
    pic->img.plane[1] = (uint8_t*)chroma;
    pic->img.plane[2] = (uint8_t*)chroma + (size_t)(stride / 2) * (c->h / 2);
    pic->img.i_stride[1] = pic->img.i_stride[2] = stride / 2;
  }
  pic->i_type = force_idr ? X264_TYPE_IDR : X264_TYPE_AUTO;
  pic->i_pts = pts;
  x264_nal_t* nals;
  int nnal;
  x264_picture_t pout;
  int size = x264_encoder_encode(e->x, &nals, &nnal, pic, &pout);
  if (size < 0) return -1;
  if (size == 0) return 0;
  size_t off = 0;
  if (!c->repeat_headers && e->frames == 0) {
    x264_nal_t* hn;
    int hnn;
    int hs = x264_encoder_headers(e->x, &hn, &hnn);
    if (hs < 0 || (size_t)hs > cap) return -1;
    memcpy(out, hn[0].p_payload, (size_t)hs);
    off = (size_t)hs;
  }
  if (off + (size_t)size > cap) return -1;
  memcpy(out + off, nals[0].p_payload, (size_t)size); /* x264's NALs are contiguous */
  e->frames++;
  *keyframe = pout.b_keyframe;
  return (long)(off + (size_t)size);
}
