/* Shared helpers of the virtual-board test programs. These are plain V4L2
 * clients: they run the same on a real board as under the preload. Results
 * go to stdout as one JSON object (the vitest side asserts on it). */
#ifndef CAMGW_VTEST_H
#define CAMGW_VTEST_H

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DIE(...)                                 \
  do {                                           \
    fprintf(stderr, __VA_ARGS__);                \
    fprintf(stderr, " (%s)\n", strerror(errno)); \
    exit(1);                                     \
  } while (0)

/* ioctl that retries EINTR and returns 0 or errno */
static inline int xioctl(int fd, unsigned long req, void* arg) {
  int r;
  do r = ioctl(fd, req, arg);
  while (r < 0 && errno == EINTR);
  return r < 0 ? errno : 0;
}

static inline int64_t now_us(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static inline uint32_t fourcc_of(const char* s) { return v4l2_fourcc(s[0], s[1], s[2], s[3]); }

/* A camera set to W x H FOURCC at FPS (argv strings, as the programs take
 * them), `nbuf` MMAP buffers mapped into maps[] and queued, ready for
 * VIDIOC_STREAMON (the caller's: cam_capture reads the clock right before
 * it). What the driver chose is left in *fmt and *parm. Dies on any
 * refusal. */
static inline void prepare_streaming(int fd, const char* w, const char* h, const char* fourcc,
                                     const char* fps, uint32_t nbuf, struct v4l2_format* fmt,
                                     struct v4l2_streamparm* parm, void** maps) {
  *fmt = (struct v4l2_format){.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  fmt->fmt.pix.width = (uint32_t)atoi(w);
  fmt->fmt.pix.height = (uint32_t)atoi(h);
  fmt->fmt.pix.pixelformat = fourcc_of(fourcc);
  if (xioctl(fd, VIDIOC_S_FMT, fmt)) DIE("VIDIOC_S_FMT");
  *parm = (struct v4l2_streamparm){.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  parm->parm.capture.timeperframe = (struct v4l2_fract){1, (uint32_t)atoi(fps)};
  if (xioctl(fd, VIDIOC_S_PARM, parm)) DIE("VIDIOC_S_PARM");
  struct v4l2_requestbuffers req = {.count = nbuf, .type = fmt->type, .memory = V4L2_MEMORY_MMAP};
  if (xioctl(fd, VIDIOC_REQBUFS, &req)) DIE("VIDIOC_REQBUFS");
  for (uint32_t i = 0; i < req.count; i++) {
    struct v4l2_buffer b = {.index = i, .type = fmt->type, .memory = V4L2_MEMORY_MMAP};
    if (xioctl(fd, VIDIOC_QUERYBUF, &b)) DIE("VIDIOC_QUERYBUF");
    maps[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset);
    if (maps[i] == MAP_FAILED) DIE("mmap");
    if (xioctl(fd, VIDIOC_QBUF, &b)) DIE("VIDIOC_QBUF");
  }
}

/* Frame stamp reader (frame-stamp spec): luma plane with `pitch` bytes per
 * row and `step` bytes between pixels (2 for YUYV). 0 when invalid. */
static inline uint64_t read_stamp(const uint8_t* y, int w, int h, int pitch, int step) {
  int band = (h + 22) / 45;
  if (band < 16) band = 16;
  int cell = w / 64;
  uint64_t word = 0;
  for (int i = 0; i < 64; i++) {
    long sum = 0, n = 0;
    for (int r = band / 4; r < (band * 3 + 3) / 4; r++)
      for (int x = i * cell + cell / 4; x < i * cell + (cell * 3 + 3) / 4; x++) {
        sum += y[r * pitch + x * step];
        n++;
      }
    word = word << 1 | (sum >= 128 * n);
  }
  uint64_t t = word >> 8;
  uint8_t crc = 0;
  for (int i = 6; i >= 0; i--) {
    crc ^= (uint8_t)(t >> (8 * i));
    for (int b = 0; b < 8; b++) crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return t && crc == (uint8_t)word ? t : 0;
}

#endif
