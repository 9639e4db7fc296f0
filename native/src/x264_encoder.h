// Software H.264 with libx264 as an Encoder, tuned for latency: one frame
// in, one access unit out, before encode() returns (zerolatency: no
// B-frames, no lookahead, no frame threads). Capture formats are converted
// to I420 with libyuv first.
#pragma once

#include <cstdint>
#include <string>

#include "encoder.h"
#include "encoder_settings.h"

extern "C" {
#include <x264.h>
}

namespace camgw {

class X264Encoder final : public Encoder {
 public:
  // inputFourcc: V4L2_PIX_FMT_YUYV, _NV12 or _YUV420; bytesperline of the
  // capture buffer (luma row pitch for planar formats). `device` (the
  // camera) names the pipeline in errors. Throws DeviceError.
  X264Encoder(const std::string& device, const EncoderSettings& s, uint32_t inputFourcc,
              uint32_t bytesperline);
  ~X264Encoder() override;

  static bool accepts(uint32_t fourcc);

  bool start(const FrameSource& source) override;
  void stop() noexcept override {}
  // Converts and encodes one captured frame (false: x264 produced nothing).
  bool encode(const CapturedBuffer& frame) override;
  // x264_encoder_reconfig keeps the stream going.
  void setBitrate(uint32_t kbps) override;
  void requestKeyFrame() override { forceIdrNext_ = true; }
  void setFrameRate(uint32_t fpsNum, uint32_t fpsDen) override;
  // x264 (0.164) cannot change its size in x264_encoder_reconfig: closed
  // and opened again at the new size, with the current bitrate and frame
  // rate. Its first picture is an IDR.
  bool resize(const CaptureFormat& input, const FrameSource& source) override;
  InputLayout inputLayout() const override { return {bytesperline_, s_.height}; }

 private:
  // x264_encoder_open at s_'s size for frames in fourcc_; throws DeviceError.
  void open();
  void close() noexcept;
  void applyRateControl(x264_param_t& p, uint32_t kbps) const;
  void applyFrameRate(x264_param_t& p) const;
  void reconfigure(const char* what);
  bool convert(const uint8_t* data, uint32_t bytesused);
  bool encodePicture(const uint8_t* data, uint32_t bytesused, EncodedUnit& out);

  std::string device_;
  EncoderSettings s_;
  uint32_t fourcc_, bytesperline_;
  x264_param_t param_{};
  x264_t* enc_ = nullptr;
  x264_picture_t pic_{};
  int64_t pts_ = 0;
  bool forceIdrNext_ = true;
  // Frames a second it is given (setFrameRate); the camera's rate until then.
  double fps_ = 0;
};

}  // namespace camgw
