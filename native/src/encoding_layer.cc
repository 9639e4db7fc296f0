#include "encoding_layer.h"

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
    : o_(o), scaler_(neg.width, neg.height, neg.fourcc, cameraBytesperline) {
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
      const InputLayout l = m2m->inputLayout();
      if (l.bytesperline < o.width || l.rows < o.height) {
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
    encoder_ = std::make_unique<X264Encoder>(p.device, s, V4L2_PIX_FMT_YUV420, o.width);
    mode_ = EncoderMode::Software;
  }
  // The scaled picture is ours: nothing to hand back to the camera.
  encoder_->setInputDoneCallback([](uint32_t) {});
  const InputLayout l = encoder_->inputLayout();
  scaler_.setTarget(o.width, o.height, l.bytesperline, l.rows);
  encoder_->start(FrameSource{1, false});
}

EncodingLayer::~EncodingLayer() {
  if (encoder_) encoder_->stop();
}

void EncodingLayer::setOutputReadyCallback(Encoder::OutputReady cb) {
  encoder_->setOutputReadyCallback(std::move(cb));
}

bool EncodingLayer::encode(const CapturedBuffer& b) {
  if (!scaler_.scale(b)) return false;
  return encoder_->encode(scaler_.frame(b.timestamp));
}

}  // namespace camgw
