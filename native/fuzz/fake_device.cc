// A V4L2 capture device that answers each ioctl with the fuzzer's bytes: a
// hostile or buggy driver (or a USB camera with broken firmware behind
// uvcvideo) as the addon's device code sees it. Fields the kernel would
// fill come from the input; requests it would only read are accepted.
#include "fake_device.h"

#include <linux/videodev2.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

namespace {

const uint8_t* g_data = nullptr;
size_t g_left = 0;

bool take(void* out, size_t n) {
  if (g_left < n) {
    g_left = 0;
    return false;
  }
  std::memcpy(out, g_data, n);
  g_data += n;
  g_left -= n;
  return true;
}

template <typename T>
T next(T fallback = T{}) {
  T v = fallback;
  take(&v, sizeof v);
  return v;
}

// A fourcc the addon knows more often than not, so negotiation gets far.
uint32_t fourcc() {
  static const uint32_t kKnown[] = {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUV420,
                                    V4L2_PIX_FMT_H264, V4L2_PIX_FMT_MJPEG};
  const uint8_t pick = next<uint8_t>();
  if (pick < 200) return kKnown[pick % 5];
  return next<uint32_t>();
}

int fail(int err) {
  errno = err;
  return -1;
}

}  // namespace

namespace camgw::fuzz {
void setDeviceAnswers(const uint8_t* data, size_t size) {
  g_data = data;
  g_left = size;
}
}  // namespace camgw::fuzz

extern "C" int camgw_fuzz_ioctl(int, unsigned long request, ...) noexcept {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  // One byte decides whether the driver answers this call at all.
  uint8_t ok = 0;
  if (!take(&ok, 1)) return fail(EINVAL);
  if (ok < 16) return fail(ok < 8 ? EINVAL : ENODEV);
  switch (request) {
    case VIDIOC_QUERYCAP: {
      auto* c = static_cast<v4l2_capability*>(arg);
      take(c->driver, sizeof c->driver);  // not necessarily NUL-terminated: a broken driver
      take(c->card, sizeof c->card);
      c->capabilities = next<uint32_t>();
      c->device_caps = next<uint32_t>();
      return 0;
    }
    case VIDIOC_ENUM_FMT: {
      auto* f = static_cast<v4l2_fmtdesc*>(arg);
      f->pixelformat = fourcc();
      f->flags = next<uint32_t>();
      take(f->description, sizeof f->description);
      return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
      auto* s = static_cast<v4l2_frmsizeenum*>(arg);
      s->type = next<uint8_t>() % 4;
      take(&s->stepwise, sizeof s->stepwise);  // the union: discrete is its first two fields
      return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
      auto* i = static_cast<v4l2_frmivalenum*>(arg);
      i->type = next<uint8_t>() % 4;
      take(&i->stepwise, sizeof i->stepwise);
      return 0;
    }
    case VIDIOC_S_FMT: {
      auto* f = static_cast<v4l2_format*>(arg);
      // Often the driver keeps what was asked; else it answers anything.
      if (next<uint8_t>() >= 128) take(&f->fmt, sizeof f->fmt);
      return 0;
    }
    case VIDIOC_S_PARM: {
      auto* p = static_cast<v4l2_streamparm*>(arg);
      p->parm.capture.capability = next<uint32_t>();
      take(&p->parm.capture.timeperframe, sizeof p->parm.capture.timeperframe);
      return 0;
    }
    case VIDIOC_REQBUFS: {
      auto* r = static_cast<v4l2_requestbuffers*>(arg);
      const uint8_t small = next<uint8_t>();
      r->count = small < 250 ? small % 8 : next<uint32_t>();
      return 0;
    }
    case VIDIOC_QUERYBUF: {
      auto* b = static_cast<v4l2_buffer*>(arg);
      const uint32_t length = next<uint16_t>();
      if (b->type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE && b->m.planes) {
        b->m.planes[0].length = length;
        b->m.planes[0].m.mem_offset = next<uint32_t>();
      } else {
        b->length = length;
        b->m.offset = next<uint32_t>();
      }
      return 0;
    }
    case VIDIOC_DQBUF: {
      auto* b = static_cast<v4l2_buffer*>(arg);
      b->index = next<uint8_t>() < 240 ? next<uint8_t>() % 8 : next<uint32_t>();
      const uint32_t used = next<uint32_t>() % 0x20000;
      if (b->type == V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE && b->m.planes) {
        b->m.planes[0].bytesused = used;
      } else {
        b->bytesused = used;
      }
      b->flags = next<uint32_t>();
      return 0;
    }
    case VIDIOC_EXPBUF:
      return fail(EINVAL);
    case VIDIOC_QBUF:
    case VIDIOC_STREAMON:
    case VIDIOC_STREAMOFF:
    case VIDIOC_S_CTRL:
      return 0;
    default:
      return fail(ENOTTY);
  }
}

extern "C" void* camgw_fuzz_mmap(void*, size_t len, int, int, int, off_t) noexcept {
  // Heap memory stands for the mapping, so ASan sees any read past its end.
  if (len == 0 || len > (1u << 24)) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  void* p = std::malloc(len);
  if (!p) {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  std::memset(p, 0, len);
  return p;
}

extern "C" int camgw_fuzz_munmap(void* addr, size_t) noexcept {
  std::free(addr);
  return 0;
}
