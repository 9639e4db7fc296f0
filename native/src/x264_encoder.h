// Software H.264 with libx264, tuned for latency: one frame in, one access
// unit out (zerolatency: no B-frames, no lookahead, no frame threads).
// Capture formats are converted to I420 with libyuv first.
#pragma once

#include <cstdint>
#include <vector>

#include "encoder_settings.h"

extern "C" {
#include <x264.h>
}

namespace camgw {

class X264Encoder {
 public:
  // inputFourcc: V4L2_PIX_FMT_YUYV, _NV12 or _YUV420; bytesperline of the
  // capture buffer (luma row pitch for planar formats).
  X264Encoder(const EncoderSettings& s, uint32_t inputFourcc, uint32_t bytesperline);
  ~X264Encoder();
  X264Encoder(const X264Encoder&) = delete;
  X264Encoder& operator=(const X264Encoder&) = delete;

  static bool accepts(uint32_t fourcc);

  // Converts and encodes one captured frame; `out` receives the Annex-B access
  // unit. Returns false when the encoder produced nothing (x264 error).
  bool encode(const uint8_t* data, uint32_t bytesused, bool forceIdr, std::vector<uint8_t>& out,
              bool& keyframe);
  // Live bitrate change (x264_encoder_reconfig keeps the stream going).
  bool setBitrate(uint32_t kbps);

 private:
  void applyRateControl(x264_param_t& p, uint32_t kbps) const;
  bool convert(const uint8_t* data, uint32_t bytesused);

  EncoderSettings s_;
  uint32_t fourcc_, bytesperline_;
  x264_param_t param_{};
  x264_t* enc_ = nullptr;
  x264_picture_t pic_{};
  int64_t pts_ = 0;
};

}  // namespace camgw
