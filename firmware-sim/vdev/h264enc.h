/* libx264 as the simulator's H.264 engine (the virtual encoder's "VPU" and the
 * UVC-H.264 camera's): low-latency settings, Annex-B out, live bitrate. */
#ifndef CAMGW_H264ENC_H
#define CAMGW_H264ENC_H

#include <stddef.h>
#include <stdint.h>

struct h264enc_cfg {
  int w, h;
  uint32_t fourcc; /* input layout: YU12, YV12, NV12, NV21, YUYV */
  uint32_t bytesperline;
  int fps_num, fps_den; /* frames per second = num/den */
  int bitrate_bps;
  int cbr;
  int i_period; /* 0: only the first frame is an IDR */
  int profile;  /* enum v4l2_mpeg_video_h264_profile */
  int level;    /* enum v4l2_mpeg_video_h264_level */
  int repeat_headers;
};

struct h264enc;
struct h264enc* h264enc_open(const struct h264enc_cfg* cfg);
void h264enc_close(struct h264enc* e);
void h264enc_set_bitrate(struct h264enc* e, int bps);
/* The frame rate frames now come at (num/den per second): the bitrate is
 * spent on those (x264 cannot change its own fps while open). */
void h264enc_set_fps(struct h264enc* e, int fps_num, int fps_den);
/* Encode one frame from `in`; writes one access unit to out.
 * Returns bytes written, 0 if the encoder produced nothing, -1 on error
 * (including an access unit bigger than cap). */
long h264enc_encode(struct h264enc* e, const uint8_t* in, int force_idr, int64_t pts, uint8_t* out,
                    size_t cap, int* keyframe);

#endif
