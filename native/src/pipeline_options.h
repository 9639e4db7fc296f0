// What a caller asks of a pipeline and what the drivers agreed to: plain
// structs shared by the pipeline, its set-up and the addon.
#pragma once

#include <cstdint>
#include <string>

#include "encoder_settings.h"

namespace camgw {

enum class EncoderMode { Auto, Hardware, Software, Passthrough };

struct PipelineOptions {
  std::string device;
  uint32_t width = 0, height = 0, fps = 30;
  uint32_t fourcc = 0;  // 0: choose
  EncoderMode encoder = EncoderMode::Auto;
  std::string encoderDevice;  // empty: the first M2M H.264 encoder found
  EncoderSettings settings;   // width/height/fps are filled from the capture format
  uint32_t queueDepth = 8;
  // Import camera buffers into the encoder as DMABUF when layouts allow;
  // false forces copies (a driver whose DMABUF import misbehaves).
  bool zeroCopy = true;
};

struct Negotiated {
  uint32_t width, height, fpsNumerator, fpsDenominator, fourcc;
  EncoderMode encoder;
  std::string encoderDevice;
  bool dmabuf;  // camera buffers go to the encoder without a copy (set once started)
};

const char* encoderModeName(EncoderMode m);

}  // namespace camgw
