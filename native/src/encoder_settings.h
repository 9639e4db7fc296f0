// What the caller asked of an H.264 encoder, shared by the hardware (V4L2
// M2M) and software (x264) encoders.
#pragma once

#include <cstdint>
#include <string>

namespace camgw {

enum class H264Profile { ConstrainedBaseline, Baseline, Main, High };

struct EncoderSettings {
  uint32_t width = 0, height = 0;
  uint32_t fpsNumerator = 30, fpsDenominator = 1;
  uint32_t bitrateKbps = 2000;
  bool cbr = true;
  uint32_t keyframeInterval = 60;  // frames between IDRs
  H264Profile profile = H264Profile::ConstrainedBaseline;
  // level_idc * 10 / 10: "3.1" -> 31. 0 = pick the lowest that fits.
  uint32_t levelIdc = 0;
};

// The lowest H.264 level whose macroblock rate and frame size fit (Table A-1).
uint32_t pickLevelIdc(uint32_t width, uint32_t height, double fps);
// "3.1" -> 31, "1b" -> 9; 0 for anything else.
uint32_t parseLevel(const std::string& s);

}  // namespace camgw
