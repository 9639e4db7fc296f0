// One raw camera frame copied out of its V4L2 buffer for a snapshot: a plain
// struct that crosses from the pipeline's worker to the thread that encodes
// the JPEG, so the camera buffer goes straight back to the encoder.
#pragma once

#include <cstdint>
#include <vector>

namespace camgw {

struct RawFrame {
  std::vector<uint8_t> data;  // the buffer's bytesused bytes, as the camera laid them out
  uint32_t width = 0, height = 0;
  uint32_t fourcc = 0;        // V4L2_PIX_FMT_YUYV, _NV12 or _YUV420
  uint32_t bytesperline = 0;  // of the first plane (the chroma planes follow from it)
  int64_t captureTimeUs = 0;  // CLOCK_REALTIME, microseconds since the Unix epoch
};

}  // namespace camgw
