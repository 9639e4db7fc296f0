/* A resilient capture loop, as an application should write one, run for a
 * while under injected faults; it reports what it saw:
 *   cam_faults DEV SECONDS
 * {"frames":N,"seqs":[...],"eio":N,"enodev":N,"pollerr":N,"reopened":N,
 *  "unplug_ms":T,"replug_ms":T,"ts_us":[...]} */
#include "vtest.h"

#define NB 4

static int start(const char* dev) {
  int fd = open(dev, O_RDWR | O_NONBLOCK);
  if (fd < 0) return -1;
  struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  f.fmt.pix =
      (struct v4l2_pix_format){.width = 640, .height = 480, .pixelformat = V4L2_PIX_FMT_YUYV};
  struct v4l2_requestbuffers r = {.count = NB, .type = f.type, .memory = V4L2_MEMORY_MMAP};
  if (xioctl(fd, VIDIOC_S_FMT, &f) || xioctl(fd, VIDIOC_REQBUFS, &r)) {
    close(fd);
    return -1;
  }
  for (uint32_t i = 0; i < r.count; i++) {
    struct v4l2_buffer b = {.index = i, .type = f.type, .memory = V4L2_MEMORY_MMAP};
    xioctl(fd, VIDIOC_QBUF, &b);
  }
  int t = f.type;
  if (xioctl(fd, VIDIOC_STREAMON, &t)) {
    close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char** argv) {
  const char* dev = argc > 1 ? argv[1] : "/dev/video0";
  double secs = argc > 2 ? atof(argv[2]) : 3;
  int64_t t0 = now_us(CLOCK_MONOTONIC), end = t0 + (int64_t)(secs * 1e6);
  int fd = start(dev);
  if (fd < 0) DIE("start");
  int frames = 0, eio = 0, enodev = 0, pollerr = 0, reopened = 0;
  long long unplug_ms = -1, replug_ms = -1;
  printf("{\"seqs\":[");
  while (now_us(CLOCK_MONOTONIC) < end) {
    if (fd < 0) {
      fd = start(dev);
      if (fd < 0) {
        usleep(20000);
        continue;
      }
      reopened++;
      if (replug_ms < 0) replug_ms = (now_us(CLOCK_MONOTONIC) - t0) / 1000;
      continue;
    }
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, 500);
    if (n > 0 && (p.revents & POLLERR)) pollerr++;
    struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    int err = xioctl(fd, VIDIOC_DQBUF, &b);
    if (err == EAGAIN) continue;
    if (err == EIO) {
      eio++;
      continue;
    }
    if (err == ENODEV) {
      enodev++;
      if (unplug_ms < 0) unplug_ms = (now_us(CLOCK_MONOTONIC) - t0) / 1000;
      close(fd);
      fd = -1;
      continue;
    }
    if (err) DIE("DQBUF");
    printf("%s%u", frames ? "," : "", b.sequence);
    frames++;
    xioctl(fd, VIDIOC_QBUF, &b);
  }
  printf(
      "],\"frames\":%d,\"eio\":%d,\"enodev\":%d,\"pollerr\":%d,\"reopened\":%d,"
      "\"unplug_ms\":%lld,\"replug_ms\":%lld}\n",
      frames, eio, enodev, pollerr, reopened, unplug_ms, replug_ms);
  return 0;
}
