// One camera buffer the worker has dequeued, as it is offered to an encoder:
// a plain struct that points into the camera's mapping (valid until the
// buffer is handed back) and, when the camera exported it, its dmabuf.
#pragma once

#include <sys/time.h>

#include <cstddef>
#include <cstdint>

namespace camgw {

// The index of a frame that is not a camera buffer (a scaled copy,
// frame_scaler.h): an encoder's input-done for it hands nothing back.
constexpr uint32_t kNotCameraBuffer = UINT32_MAX;

struct CapturedBuffer {
  uint32_t index;       // the camera buffer's V4L2 index: what an encoder hands back
  const uint8_t* data;  // the MMAP'd bytes
  uint32_t bytesused;   // 0 for a frame the driver flagged V4L2_BUF_FLAG_ERROR
  size_t length;        // the whole buffer (what a DMABUF importer maps)
  int dmabufFd;         // from VIDIOC_EXPBUF, or -1 when not exported
  timeval timestamp;    // CLOCK_MONOTONIC (V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC)
  bool keyframe;        // from V4L2_BUF_FLAG_KEYFRAME (H.264 cameras)
  uint32_t sequence;    // the driver's frame count since STREAMON (gaps: frames it lost)
};

}  // namespace camgw
