// One H.264 access unit on its way to JavaScript: a plain struct that crosses
// from the worker thread to the JS thread by value.
#pragma once

#include <cstdint>
#include <vector>

namespace camgw {

struct EncodedFrame {
  std::vector<uint8_t> data;  // Annex-B, one access unit
  int64_t captureTimeUs;      // CLOCK_REALTIME, microseconds since the Unix epoch
  bool keyframe;
  uint32_t width;
  uint32_t height;
  uint32_t layer = 0;  // 0: the main encoding; 1: the lower one (encoding_layer.h)
};

}  // namespace camgw
