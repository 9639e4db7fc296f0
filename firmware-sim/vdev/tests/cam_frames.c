/* Streams a camera's raw frames to stdout, back to back, until stdout
 * closes or N frames have gone (N = 0: forever). For callers that need the
 * virtual board's pictures themselves rather than the gateway's stream: the
 * congestion lab's libwebrtc reference sender feeds them to its own encoder
 * (gateway/src/congestion-lab/reference-sender.ts).
 *   cam_frames DEV W H FOURCC FPS [N]
 * Stdout: one line of JSON ({"width":..,"height":..,"fourcc":..,"frame_bytes":..}),
 * then frame_bytes per frame (the V4L2 buffer as captured, no padding). */
#include <signal.h>

#include "vtest.h"

#define NBUF 4

static int write_all(const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: cam_frames DEV W H FOURCC FPS [N]\n");
    return 2;
  }
  /* A reader that goes away ends the stream with EPIPE, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  int fd = open(argv[1], O_RDWR);
  if (fd < 0) DIE("open %s", argv[1]);
  struct v4l2_format fmt = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  fmt.fmt.pix.width = (uint32_t)atoi(argv[2]);
  fmt.fmt.pix.height = (uint32_t)atoi(argv[3]);
  fmt.fmt.pix.pixelformat = fourcc_of(argv[4]);
  if (xioctl(fd, VIDIOC_S_FMT, &fmt)) DIE("VIDIOC_S_FMT");
  struct v4l2_streamparm parm = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  parm.parm.capture.timeperframe = (struct v4l2_fract){1, (uint32_t)atoi(argv[5])};
  if (xioctl(fd, VIDIOC_S_PARM, &parm)) DIE("VIDIOC_S_PARM");
  struct v4l2_requestbuffers req = {.count = NBUF, .type = fmt.type, .memory = V4L2_MEMORY_MMAP};
  if (xioctl(fd, VIDIOC_REQBUFS, &req)) DIE("VIDIOC_REQBUFS");
  void* maps[VIDEO_MAX_FRAME];
  for (uint32_t i = 0; i < req.count; i++) {
    struct v4l2_buffer b = {.index = i, .type = fmt.type, .memory = V4L2_MEMORY_MMAP};
    if (xioctl(fd, VIDIOC_QUERYBUF, &b)) DIE("VIDIOC_QUERYBUF");
    maps[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset);
    if (maps[i] == MAP_FAILED) DIE("mmap");
    if (xioctl(fd, VIDIOC_QBUF, &b)) DIE("VIDIOC_QBUF");
  }
  int type = fmt.type;
  if (xioctl(fd, VIDIOC_STREAMON, &type)) DIE("VIDIOC_STREAMON");
  uint32_t bytes = fmt.fmt.pix.sizeimage;
  printf("{\"width\":%u,\"height\":%u,\"fourcc\":\"%.4s\",\"frame_bytes\":%u}\n", fmt.fmt.pix.width,
         fmt.fmt.pix.height, (char*)&fmt.fmt.pix.pixelformat, bytes);
  fflush(stdout);
  long n = argc > 6 ? atol(argv[6]) : 0;
  for (long k = 0; n == 0 || k < n; k++) {
    struct v4l2_buffer b = {.type = fmt.type, .memory = V4L2_MEMORY_MMAP};
    if (xioctl(fd, VIDIOC_DQBUF, &b)) DIE("VIDIOC_DQBUF");
    if (b.bytesused != bytes) DIE("frame of %u bytes, %u expected", b.bytesused, bytes);
    if (write_all(maps[b.index], bytes)) break;
    if (xioctl(fd, VIDIOC_QBUF, &b)) DIE("VIDIOC_QBUF");
  }
  xioctl(fd, VIDIOC_STREAMOFF, &type);
  close(fd);
  return 0;
}
