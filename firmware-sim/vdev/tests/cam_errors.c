/* Exercises the camera's error paths and format negotiation, printing what
 * each call returned (0 or the errno name) as one JSON object:
 *   cam_errors DEV */
#include "vtest.h"

static int first = 1;

static void out_str(const char* k, const char* v) {
  printf("%s\"%s\":\"%s\"", first ? "" : ",", k, v);
  first = 0;
}

static void out_int(const char* k, long v) {
  printf("%s\"%s\":%ld", first ? "" : ",", k, v);
  first = 0;
}

static const char* en(int e) {
  switch (e) {
    case 0:
      return "OK";
    case EINVAL:
      return "EINVAL";
    case EBUSY:
      return "EBUSY";
    case EAGAIN:
      return "EAGAIN";
    case ENOTTY:
      return "ENOTTY";
    case ENODEV:
      return "ENODEV";
    case EIO:
      return "EIO";
    case EFAULT:
      return "EFAULT";
    default:
      return "OTHER";
  }
}

static void fourcc_str(const char* k, uint32_t f) {
  char s[5] = {(char)f, (char)(f >> 8), (char)(f >> 16), (char)(f >> 24), 0};
  out_str(k, s);
}

int main(int argc, char** argv) {
  const char* dev = argc > 1 ? argv[1] : "/dev/video0";
  int a = open(dev, O_RDWR | O_NONBLOCK), b = open(dev, O_RDWR);
  if (a < 0 || b < 0) DIE("open %s", dev);
  printf("{");
  struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  f.fmt.pix.width = 1000;
  f.fmt.pix.height = 700;
  f.fmt.pix.pixelformat = V4L2_PIX_FMT_NV12;
  out_str("try_odd_size", en(xioctl(a, VIDIOC_TRY_FMT, &f)));
  out_int("try_odd_size_w", f.fmt.pix.width);
  out_int("try_odd_size_h", f.fmt.pix.height);
  fourcc_str("try_odd_size_fourcc", f.fmt.pix.pixelformat);
  out_int("try_odd_size_sizeimage", f.fmt.pix.sizeimage);
  f.fmt.pix.pixelformat = v4l2_fourcc('A', 'B', 'C', 'D');
  out_str("try_unknown_fourcc", en(xioctl(a, VIDIOC_TRY_FMT, &f)));
  fourcc_str("try_unknown_fourcc_got", f.fmt.pix.pixelformat);
  f.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  out_str("try_wrong_type", en(xioctl(a, VIDIOC_TRY_FMT, &f)));
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
  out_str("g_fmt_mplane", en(xioctl(a, VIDIOC_G_FMT, &f)));

  int nfmt = 0;
  char list[64] = "";
  for (struct v4l2_fmtdesc d = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
       !xioctl(a, VIDIOC_ENUM_FMT, &d); d.index++, nfmt++)
    strncat(list, (char*)&d.pixelformat, 4);
  out_str("formats", list);
  int nsize = 0;
  for (struct v4l2_frmsizeenum s = {.pixel_format = V4L2_PIX_FMT_YUYV};
       !xioctl(a, VIDIOC_ENUM_FRAMESIZES, &s); s.index++)
    nsize++;
  out_int("sizes", nsize);
  int nival = 0;
  for (struct v4l2_frmivalenum iv = {.pixel_format = V4L2_PIX_FMT_YUYV,
                                    .width = 1920,
                                    .height = 1080};
       !xioctl(a, VIDIOC_ENUM_FRAMEINTERVALS, &iv); iv.index++)
    nival++;
  out_int("intervals_1080p", nival);

  struct v4l2_streamparm p = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  p.parm.capture.timeperframe = (struct v4l2_fract){1, 20};
  out_str("s_parm_20", en(xioctl(a, VIDIOC_S_PARM, &p)));
  out_int("s_parm_20_got", (long)p.parm.capture.timeperframe.denominator);
  p.parm.capture.timeperframe = (struct v4l2_fract){1, 10};
  xioctl(a, VIDIOC_S_PARM, &p);
  out_int("s_parm_10_got", (long)p.parm.capture.timeperframe.denominator);

  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  struct v4l2_buffer buf = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
  out_str("dqbuf_not_streaming", en(xioctl(a, VIDIOC_DQBUF, &buf)));
  struct pollfd pf = {a, POLLIN, 0};
  poll(&pf, 1, 0);
  out_int("poll_idle_pollerr", !!(pf.revents & POLLERR));

  struct v4l2_requestbuffers r = {
      .count = 2, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_USERPTR};
  out_str("reqbufs_userptr", en(xioctl(a, VIDIOC_REQBUFS, &r)));
  r.memory = V4L2_MEMORY_MMAP;
  out_str("reqbufs_a", en(xioctl(a, VIDIOC_REQBUFS, &r)));
  out_int("reqbufs_caps_mmap", !!(r.capabilities & V4L2_BUF_CAP_SUPPORTS_MMAP));
  struct v4l2_requestbuffers r2 = r;
  out_str("reqbufs_second_fd", en(xioctl(b, VIDIOC_REQBUFS, &r2)));
  struct v4l2_format f2 = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  xioctl(b, VIDIOC_G_FMT, &f2);
  f2.fmt.pix.width = 640;
  f2.fmt.pix.height = 480;
  out_str("s_fmt_while_busy", en(xioctl(b, VIDIOC_S_FMT, &f2)));

  buf.index = 99;
  out_str("querybuf_bad_index", en(xioctl(a, VIDIOC_QUERYBUF, &buf)));
  out_str("qbuf_bad_index", en(xioctl(a, VIDIOC_QBUF, &buf)));
  buf.index = 0;
  out_str("querybuf_0", en(xioctl(a, VIDIOC_QUERYBUF, &buf)));
  void* priv = mmap(NULL, buf.length, PROT_READ, MAP_PRIVATE, a, buf.m.offset);
  out_int("mmap_private_fails", priv == MAP_FAILED && errno == EINVAL);
  void* bad = mmap(NULL, buf.length, PROT_READ, MAP_SHARED, a, 12345 * 4096);
  out_int("mmap_bad_offset_fails", bad == MAP_FAILED);
  uint8_t* m0 = mmap(NULL, buf.length, PROT_READ | PROT_WRITE, MAP_SHARED, a, buf.m.offset);
  struct v4l2_exportbuffer eb = {
      .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .index = 0, .flags = O_CLOEXEC};
  out_str("expbuf", en(xioctl(a, VIDIOC_EXPBUF, &eb)));
  for (uint32_t i = 0; i < r.count; i++) {
    struct v4l2_buffer q = {
        .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    xioctl(a, VIDIOC_QBUF, &q);
  }
  out_str("qbuf_twice", en(xioctl(a, VIDIOC_QBUF, &buf)));
  out_str("streamon_other_fd", en(xioctl(b, VIDIOC_STREAMON, &type)));
  out_str("streamon", en(xioctl(a, VIDIOC_STREAMON, &type)));
  struct v4l2_buffer d = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
  out_str("dqbuf_nonblock_early", en(xioctl(a, VIDIOC_DQBUF, &d)));
  out_str("dqbuf_other_fd", en(xioctl(b, VIDIOC_DQBUF, &d)));
  pf.revents = 0;
  out_int("poll_ready", poll(&pf, 1, 2000));
  out_str("dqbuf", en(xioctl(a, VIDIOC_DQBUF, &d)));
  out_int("dqbuf_mono_flag",
          (d.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC);
  if (d.index == 0 && eb.fd > 0) {
    uint8_t* e = mmap(NULL, buf.length, PROT_READ, MAP_SHARED, eb.fd, 0);
    out_int("expbuf_same_pixels", e != MAP_FAILED && memcmp(e, m0, d.bytesused) == 0);
  } else {
    out_int("expbuf_same_pixels", eb.fd > 0);
  }
  out_str("reqbufs_while_streaming", en(xioctl(a, VIDIOC_REQBUFS, &r)));
  out_str("streamoff", en(xioctl(a, VIDIOC_STREAMOFF, &type)));
  r.count = 0;
  out_str("reqbufs_0", en(xioctl(a, VIDIOC_REQBUFS, &r)));
  r.count = 2;
  out_str("reqbufs_second_fd_after_release", en(xioctl(b, VIDIOC_REQBUFS, &r)));
  out_str("unknown_ioctl", en(xioctl(a, _IOWR('V', 250, int), &type)));
  printf("}\n");
  return 0;
}
