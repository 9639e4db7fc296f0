#include "frame_scaler.h"

#include <libyuv.h>
#include <linux/videodev2.h>

namespace camgw {

FrameScaler::FrameScaler(uint32_t cameraWidth, uint32_t cameraHeight, uint32_t cameraFourcc,
                         uint32_t cameraBytesperline)
    : camWidth_(cameraWidth),
      camHeight_(cameraHeight),
      camFourcc_(cameraFourcc),
      camStride_(cameraBytesperline) {
  if (camFourcc_ != V4L2_PIX_FMT_YUV420) {
    full_.resize(size_t(camWidth_) * camHeight_ +
                 2 * size_t((camWidth_ + 1) / 2) * ((camHeight_ + 1) / 2));
  }
}

void FrameScaler::setTarget(uint32_t width, uint32_t height, uint32_t stride, uint32_t rows) {
  width_ = width;
  height_ = height;
  stride_ = stride;
  rows_ = rows;
  scaled_.assign(size_t(stride) * rows * 3 / 2, 0);
  // The largest part of the camera's picture with the target's aspect
  // ratio (cw/ch against w/h, cross-multiplied). Within 5 % of the
  // camera's it is the whole picture: the resolution ladder rounds to whole
  // macroblocks (640x480 -> 480x368, 2 % off).
  const uint64_t camera = uint64_t(camWidth_) * height;
  const uint64_t target = uint64_t(width) * camHeight_;
  cropWidth_ = camWidth_;
  cropHeight_ = camHeight_;
  if (target * 100 > camera * 105) {  // wider than the camera: fewer rows
    cropHeight_ = uint32_t(uint64_t(camWidth_) * height / width) & ~1u;
  } else if (camera * 100 > target * 105) {  // narrower: fewer columns
    cropWidth_ = uint32_t(uint64_t(camHeight_) * width / height) & ~1u;
  }
  cropX_ = ((camWidth_ - cropWidth_) / 2) & ~1u;
  cropY_ = ((camHeight_ - cropHeight_) / 2) & ~1u;
}

bool FrameScaler::scale(const CapturedBuffer& b) {
  if (scaled_.empty()) return false;
  const int w = static_cast<int>(camWidth_), h = static_cast<int>(camHeight_);
  const int stride = static_cast<int>(camStride_);
  const size_t lumaSize = size_t(stride) * h;
  const uint8_t *sy, *su, *sv;
  int sys, scs;
  if (camFourcc_ == V4L2_PIX_FMT_YUV420) {
    const int cs = stride / 2;
    const size_t chroma = size_t(cs) * ((h + 1) / 2);
    if (b.bytesused < lumaSize + 2 * chroma) return false;
    sy = b.data;
    su = b.data + lumaSize;
    sv = su + chroma;
    sys = stride;
    scs = cs;
  } else {
    const int cw = (w + 1) / 2;
    uint8_t* y = full_.data();
    uint8_t* u = y + size_t(w) * h;
    uint8_t* v = u + size_t(cw) * ((h + 1) / 2);
    int r;
    if (camFourcc_ == V4L2_PIX_FMT_YUYV) {
      if (b.bytesused < lumaSize) return false;
      r = libyuv::YUY2ToI420(b.data, stride, y, w, u, cw, v, cw, w, h);
    } else {  // NV12
      if (b.bytesused < lumaSize + size_t(stride) * ((h + 1) / 2)) return false;
      r = libyuv::NV12ToI420(b.data, stride, b.data + lumaSize, stride, y, w, u, cw, v, cw, w, h);
    }
    if (r != 0) return false;
    sy = y;
    su = u;
    sv = v;
    sys = w;
    scs = cw;
  }
  // The crop: offsets into each plane (even, so the chroma planes' are whole).
  sy += size_t(cropY_) * sys + cropX_;
  su += size_t(cropY_ / 2) * scs + cropX_ / 2;
  sv += size_t(cropY_ / 2) * scs + cropX_ / 2;
  const int ds = static_cast<int>(stride_);
  uint8_t* dy = scaled_.data();
  uint8_t* du = dy + size_t(ds) * rows_;
  uint8_t* dv = du + size_t(ds / 2) * (rows_ / 2);
  return libyuv::I420Scale(sy, sys, su, scs, sv, scs, static_cast<int>(cropWidth_),
                           static_cast<int>(cropHeight_), dy, ds, du, ds / 2, dv, ds / 2,
                           static_cast<int>(width_), static_cast<int>(height_),
                           libyuv::kFilterBox) == 0;
}

CapturedBuffer FrameScaler::frame(const timeval& timestamp) const {
  CapturedBuffer s{};
  s.index = kNotCameraBuffer;
  s.data = scaled_.data();
  s.bytesused = static_cast<uint32_t>(scaled_.size());
  s.length = scaled_.size();
  s.dmabufFd = -1;
  s.timestamp = timestamp;
  s.keyframe = false;
  return s;
}

}  // namespace camgw
