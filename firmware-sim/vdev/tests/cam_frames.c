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
  struct v4l2_format fmt;
  struct v4l2_streamparm parm;
  void* maps[VIDEO_MAX_FRAME];
  prepare_streaming(fd, argv[2], argv[3], argv[4], argv[5], NBUF, &fmt, &parm, maps);
  int type = (int)fmt.type;
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
