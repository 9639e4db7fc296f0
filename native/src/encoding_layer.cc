#include "encoding_layer.h"

#include <libyuv.h>
#include <linux/videodev2.h>

#include <string>
#include <utility>

#include "device_error.h"
#include "m2m_encoder.h"
#include "v4l2_util.h"
#include "x264_encoder.h"

namespace camgw {

namespace {

void checkSize(const std::string& device, const Negotiated& neg, const LayerOptions& o) {
  const bool even = o.width % 2 == 0 && o.height % 2 == 0;
  if (o.width < 16 || o.height < 16 || !even || o.width > neg.width || o.height > neg.height) {
    throw DeviceError(device, "layer",
                      "a layer must be even, 16x16 at least and at most the camera's " +
                          std::to_string(neg.width) + "x" + std::to_string(neg.height) + ", not " +
                          std::to_string(o.width) + "x" + std::to_string(o.height));
  }
}

}  // namespace

EncodingLayer::EncodingLayer(const PipelineOptions& p, const Negotiated& neg,
                             uint32_t cameraBytesperline, const LayerOptions& o)
    : o_(o),
      camWidth_(neg.width),
      camHeight_(neg.height),
      camFourcc_(neg.fourcc),
      camStride_(cameraBytesperline) {
  if (!X264Encoder::accepts(neg.fourcc)) {
    throw DeviceError(p.device, "layer",
                      "the camera gives " + fourccToString(neg.fourcc) +
                          ", not raw frames: a second encoding needs raw frames to scale");
  }
  checkSize(p.device, neg, o);
  EncoderSettings s = p.settings;
  s.width = o.width;
  s.height = o.height;
  s.fpsNumerator = neg.fpsNumerator;
  s.fpsDenominator = neg.fpsDenominator;
  s.bitrateKbps = o.bitrateKbps;
  s.levelIdc = 0;  // the main encoding's level may be far more than this size needs
  if (neg.encoder == EncoderMode::Hardware && !neg.encoderDevice.empty()) {
    try {
      CaptureFormat in;
      in.width = o.width;
      in.height = o.height;
      in.fourcc = V4L2_PIX_FMT_YUV420;
      in.bytesperline = o.width;
      in.sizeimage = o.width * o.height * 3 / 2;
      auto m2m = std::make_unique<M2mEncoder>(neg.encoderDevice, s, in, false);
      dstStride_ = m2m->inputBytesperline();
      // One plane: Y, then U and V at half the stride; the driver may pad
      // the rows (bcm2835-codec aligns the height to 16), which sizeimage shows.
      dstRows_ = dstStride_ ? m2m->inputSizeimage() * 2 / (3 * dstStride_) : 0;
      if (dstStride_ < o.width || dstRows_ < o.height) {
        throw DeviceError(neg.encoderDevice, "VIDIOC_S_FMT", "unexpected YU12 layout");
      }
      encoder_ = std::move(m2m);
      mode_ = EncoderMode::Hardware;
    } catch (const DeviceError&) {
      // No second instance (busy, or the layout is not one we can write):
      // x264 serves the layer instead.
      encoder_.reset();
    }
  }
  if (!encoder_) {
    dstStride_ = o.width;
    dstRows_ = o.height;
    encoder_ = std::make_unique<X264Encoder>(p.device, s, V4L2_PIX_FMT_YUV420, o.width);
    mode_ = EncoderMode::Software;
  }
  // The scaled picture is ours: nothing to hand back to the camera.
  encoder_->setInputDoneCallback([](uint32_t) {});
  scaled_.assign(size_t(dstStride_) * dstRows_ * 3 / 2, 0);
  if (camFourcc_ != V4L2_PIX_FMT_YUV420) {
    full_.resize(size_t(camWidth_) * camHeight_ +
                 2 * size_t((camWidth_ + 1) / 2) * ((camHeight_ + 1) / 2));
  }
  encoder_->start(FrameSource{1, false});
}

EncodingLayer::~EncodingLayer() {
  if (encoder_) encoder_->stop();
}

void EncodingLayer::setOutputReadyCallback(Encoder::OutputReady cb) {
  encoder_->setOutputReadyCallback(std::move(cb));
}

bool EncodingLayer::scale(const CapturedBuffer& b) {
  const int w = static_cast<int>(camWidth_), h = static_cast<int>(camHeight_);
  const int stride = static_cast<int>(camStride_);
  const size_t lumaSize = size_t(stride) * h;
  const uint8_t *sy, *su, *sv;
  int sys, sus, svs;
  if (camFourcc_ == V4L2_PIX_FMT_YUV420) {
    const int cs = stride / 2;
    const size_t chroma = size_t(cs) * ((h + 1) / 2);
    if (b.bytesused < lumaSize + 2 * chroma) return false;
    sy = b.data;
    su = b.data + lumaSize;
    sv = su + chroma;
    sys = stride;
    sus = svs = cs;
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
    sus = svs = cw;
  }
  const int ds = static_cast<int>(dstStride_);
  uint8_t* dy = scaled_.data();
  uint8_t* du = dy + size_t(ds) * dstRows_;
  uint8_t* dv = du + size_t(ds / 2) * (dstRows_ / 2);
  return libyuv::I420Scale(sy, sys, su, sus, sv, svs, w, h, dy, ds, du, ds / 2, dv, ds / 2,
                           static_cast<int>(o_.width), static_cast<int>(o_.height),
                           libyuv::kFilterBox) == 0;
}

bool EncodingLayer::encode(const CapturedBuffer& b) {
  if (!scale(b)) return false;
  CapturedBuffer s{};
  s.index = 0;
  s.data = scaled_.data();
  s.bytesused = static_cast<uint32_t>(scaled_.size());
  s.length = scaled_.size();
  s.dmabufFd = -1;
  s.timestamp = b.timestamp;
  s.keyframe = false;
  return encoder_->encode(s);
}

}  // namespace camgw
