#include "jpeg_encoder.h"

#include <libyuv.h>
#include <linux/videodev2.h>
#include <turbojpeg.h>

#include <cmath>
#include <memory>

#include "v4l2_util.h"

namespace camgw {

namespace {

// I420 planes owned by one vector: Y, then U, then V, each tightly packed.
struct I420 {
  std::vector<uint8_t> bytes;
  uint32_t w, h;
  uint8_t* y() { return bytes.data(); }
  uint8_t* u() { return bytes.data() + size_t(w) * h; }
  uint8_t* v() { return u() + size_t(cw()) * ch(); }
  int ys() const { return int(w); }
  int cs() const { return int(cw()); }
  uint32_t cw() const { return (w + 1) / 2; }
  uint32_t ch() const { return (h + 1) / 2; }
  I420(uint32_t width, uint32_t height)
      : bytes(size_t(width) * height + 2 * size_t((width + 1) / 2) * ((height + 1) / 2)),
        w(width),
        h(height) {}
};

// The camera's layout to I420, as the x264 encoder reads it (x264_encoder.cc).
I420 toI420(const RawFrame& f) {
  const int w = int(f.width), h = int(f.height);
  const int stride = int(f.bytesperline);
  const size_t lumaSize = size_t(stride) * f.height;
  const uint8_t* src = f.data.data();
  const size_t n = f.data.size();
  I420 out(f.width, f.height);
  int r = -1;
  switch (f.fourcc) {
    case V4L2_PIX_FMT_YUYV:
      if (n < lumaSize) break;
      r = libyuv::YUY2ToI420(src, stride, out.y(), out.ys(), out.u(), out.cs(), out.v(), out.cs(),
                             w, h);
      break;
    case V4L2_PIX_FMT_NV12:
      if (n < lumaSize + size_t(stride) * ((f.height + 1) / 2)) break;
      r = libyuv::NV12ToI420(src, stride, src + lumaSize, stride, out.y(), out.ys(), out.u(),
                             out.cs(), out.v(), out.cs(), w, h);
      break;
    case V4L2_PIX_FMT_YUV420: {
      const int cstride = stride / 2;
      const size_t chromaSize = size_t(cstride) * ((f.height + 1) / 2);
      if (n < lumaSize + 2 * chromaSize) break;
      r = libyuv::I420Copy(src, stride, src + lumaSize, cstride, src + lumaSize + chromaSize,
                           cstride, out.y(), out.ys(), out.u(), out.cs(), out.v(), out.cs(), w, h);
      break;
    }
    default:
      throw SnapshotFailure("bad-format", "no JPEG from " + fourccToString(f.fourcc) +
                                              " frames (YUYV, NV12 and YU12 only)");
  }
  if (r != 0) {
    throw SnapshotFailure("bad-size", "a " + std::to_string(n) + "-byte " +
                                          fourccToString(f.fourcc) + " frame is too short for " +
                                          std::to_string(w) + "x" + std::to_string(h));
  }
  return out;
}

struct TjHandle {
  tjhandle h = tjInitCompress();
  ~TjHandle() {
    if (h) tjDestroy(h);
  }
};

}  // namespace

void jpegSize(uint32_t w, uint32_t h, uint32_t width, uint32_t& outW, uint32_t& outH) {
  if (width == 0 || width == w) {
    outW = w;
    outH = h;
    return;
  }
  if (width < 16 || width > w) {
    throw SnapshotFailure("bad-size", "width " + std::to_string(width) + " is outside 16.." +
                                          std::to_string(w) + " (the camera's width)");
  }
  outW = width & ~1u;
  const double scaled = double(h) * double(outW) / double(w);
  outH = uint32_t(std::lround(scaled / 2.0)) * 2;
  if (outH < 16) outH = 16;
}

Jpeg encodeJpeg(const RawFrame& frame, const JpegOptions& options) {
  // The addon checked it (TypeError); a bad value here is a caller's bug.
  const int quality = options.quality < 1 ? 1 : options.quality > 100 ? 100 : int(options.quality);
  uint32_t outW, outH;
  jpegSize(frame.width, frame.height, options.width, outW, outH);
  I420 full = toI420(frame);
  I420 scaled = (outW == frame.width && outH == frame.height) ? I420(0, 0) : I420(outW, outH);
  I420* src = &full;
  if (scaled.w != 0) {
    // A box filter averages every source pixel into the smaller picture:
    // no aliasing on fine detail (and on the frame stamp's digits).
    libyuv::I420Scale(full.y(), full.ys(), full.u(), full.cs(), full.v(), full.cs(), int(full.w),
                      int(full.h), scaled.y(), scaled.ys(), scaled.u(), scaled.cs(), scaled.v(),
                      scaled.cs(), int(outW), int(outH), libyuv::kFilterBox);
    src = &scaled;
  }
  TjHandle tj;
  if (!tj.h) throw SnapshotFailure("encode-failed", "tjInitCompress failed");
  const unsigned char* planes[3] = {src->y(), src->u(), src->v()};
  const int strides[3] = {src->ys(), src->cs(), src->cs()};
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  if (tjCompressFromYUVPlanes(tj.h, planes, int(src->w), strides, int(src->h), TJSAMP_420, &buf,
                              &size, quality, TJFLAG_FASTDCT) != 0) {
    const std::string why = tjGetErrorStr2(tj.h);
    if (buf) tjFree(buf);
    throw SnapshotFailure("encode-failed", "tjCompressFromYUVPlanes: " + why);
  }
  Jpeg out{std::vector<uint8_t>(buf, buf + size), src->w, src->h};
  tjFree(buf);
  return out;
}

}  // namespace camgw
