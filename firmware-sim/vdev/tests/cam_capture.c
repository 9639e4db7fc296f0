/* Streams N frames from a camera and reports, per frame, what the driver
 * said (sequence, CLOCK_MONOTONIC timestamp, bytesused, flags) and the frame
 * stamp read back from the pixels.
 *   cam_capture DEV W H FOURCC FPS N [poll|block|nonblock]
 * Output: {"width":..,"height":..,"fourcc":..,"fps_num":..,"fps_den":..,
 *          "frames":[{"seq":..,"ts_us":..,"bytes":..,"flags":..,"stamp_us":..}],
 *          "t0_real_us":..,"t1_real_us":..,"eagain":..} */
#include "vtest.h"

#define NBUF 4

int main(int argc, char** argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: cam_capture DEV W H FOURCC FPS N [poll|block|nonblock]\n");
    return 2;
  }
  const char* mode = argc > 7 ? argv[7] : "poll";
  int nonblock = strcmp(mode, "block") != 0;
  int fd = open(argv[1], O_RDWR | (nonblock ? O_NONBLOCK : 0));
  if (fd < 0) DIE("open %s", argv[1]);
  struct v4l2_format fmt;
  struct v4l2_streamparm parm;
  void* maps[VIDEO_MAX_FRAME];
  prepare_streaming(fd, argv[2], argv[3], argv[4], argv[5], NBUF, &fmt, &parm, maps);
  int type = (int)fmt.type;
  int64_t t0 = now_us(CLOCK_REALTIME);
  if (xioctl(fd, VIDIOC_STREAMON, &type)) DIE("VIDIOC_STREAMON");
  int n = atoi(argv[6]), eagain = 0;
  uint32_t w = fmt.fmt.pix.width, h = fmt.fmt.pix.height;
  printf(
      "{\"width\":%u,\"height\":%u,\"fourcc\":\"%.4s\",\"fps_num\":%u,\"fps_den\":%u,"
      "\"sizeimage\":%u,\"bytesperline\":%u,\"frames\":[",
      w, h, (char*)&fmt.fmt.pix.pixelformat, parm.parm.capture.timeperframe.numerator,
      parm.parm.capture.timeperframe.denominator, fmt.fmt.pix.sizeimage, fmt.fmt.pix.bytesperline);
  for (int k = 0; k < n;) {
    if (strcmp(mode, "poll") == 0) {
      struct pollfd p = {fd, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) DIE("poll timed out");
    }
    struct v4l2_buffer b = {.type = fmt.type, .memory = V4L2_MEMORY_MMAP};
    int err = xioctl(fd, VIDIOC_DQBUF, &b);
    if (err == EAGAIN) {
      eagain++;
      if (strcmp(mode, "nonblock") == 0) usleep(2000);
      continue;
    }
    if (err) DIE("VIDIOC_DQBUF");
    uint64_t stamp = 0;
    const uint8_t* y = maps[b.index];
    if (fmt.fmt.pix.pixelformat == V4L2_PIX_FMT_YUYV)
      stamp = read_stamp(y, (int)w, (int)h, (int)w * 2, 2);
    else if (fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_H264)
      stamp = read_stamp(y, (int)w, (int)h, (int)w, 1);
    printf("%s{\"seq\":%u,\"ts_us\":%lld,\"bytes\":%u,\"flags\":%u,\"stamp_us\":%llu}",
           k ? "," : "", b.sequence, (long long)b.timestamp.tv_sec * 1000000 + b.timestamp.tv_usec,
           b.bytesused, b.flags, (unsigned long long)stamp);
    if (xioctl(fd, VIDIOC_QBUF, &b)) DIE("VIDIOC_QBUF");
    k++;
  }
  int64_t t1 = now_us(CLOCK_REALTIME);
  if (xioctl(fd, VIDIOC_STREAMOFF, &type)) DIE("VIDIOC_STREAMOFF");
  printf("],\"t0_real_us\":%lld,\"t1_real_us\":%lld,\"eagain\":%d}\n", (long long)t0, (long long)t1,
         eagain);
  close(fd);
  return 0;
}
