// A second, lower encoding of the same capture (issue 16, "a second, lower
// encoding" for a viewer far below the others): the pipeline's worker
// scales each camera frame with libyuv and gives it to an encoder instance
// of its own, at the layer's size and bitrate. The camera is opened once
// (V4L2 capture is exclusive); the layer's access units carry the camera
// buffer's timestamp, so both encodings share one capture clock.
//
// On a board with a V4L2 M2M encoder the layer is a second instance of it
// (each open of bcm2835-codec is an independent context, as each open of the
// virtual board's encoder is), fed by copy; otherwise, or when that instance
// cannot be had, x264.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "captured_buffer.h"
#include "encoder.h"
#include "frame_scaler.h"
#include "pipeline_options.h"

namespace camgw {

struct LayerOptions {
  uint32_t width = 0, height = 0;  // even, at most the camera's size
  uint32_t bitrateKbps = 0;
};

class EncodingLayer {
 public:
  // Opens and starts the layer's encoder for frames of the camera format
  // `camera` (raw: YUYV, NV12 or YU12). Throws DeviceError.
  EncodingLayer(const PipelineOptions& pipeline, const Negotiated& neg, uint32_t cameraBytesperline,
                const LayerOptions& o);
  ~EncodingLayer();
  EncodingLayer(const EncodingLayer&) = delete;
  EncodingLayer& operator=(const EncodingLayer&) = delete;

  // Where its access units go (on the worker).
  void setOutputReadyCallback(Encoder::OutputReady cb);

  uint32_t width() const { return o_.width; }
  uint32_t height() const { return o_.height; }
  EncoderMode encoder() const { return mode_; }

  // Worker: scales the camera frame (read before this returns; the camera
  // buffer is not held) and offers it to the encoder. False: skipped.
  bool encode(const CapturedBuffer& frame);
  int pollFd() const { return encoder_->pollFd(); }
  void onPollEvents(short revents) { encoder_->onPollEvents(revents); }
  void setBitrate(uint32_t kbps) { encoder_->setBitrate(kbps); }
  void requestKeyFrame() { encoder_->requestKeyFrame(); }

 private:
  LayerOptions o_;
  EncoderMode mode_ = EncoderMode::Software;
  std::unique_ptr<Encoder> encoder_;
  FrameScaler scaler_;
};

}  // namespace camgw
