// JPEG from a raw camera frame with libjpeg-turbo's TurboJPEG API (2.1,
// Debian's libturbojpeg0): the frame is converted to I420 and, when a smaller
// width is asked, box-filtered down with libyuv, then compressed from the
// planes as 4:2:0 (tjCompressFromYUVPlanes), so no RGB pass is made.
// Runs on any thread; each call has its own TurboJPEG handle.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "raw_frame.h"

namespace camgw {

// A snapshot that cannot be made from this frame or with these options:
// `reason` is what native/lib's SnapshotError carries ("bad-size",
// "bad-format", "encode-failed").
class SnapshotFailure : public std::runtime_error {
 public:
  SnapshotFailure(std::string reason, const std::string& message)
      : std::runtime_error(message), reason_(std::move(reason)) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

struct JpegOptions {
  uint32_t width = 0;     // 0: the frame's own; else 16 .. the frame's width
  uint32_t quality = 80;  // 1..100 (libjpeg's scale)
};

struct Jpeg {
  std::vector<uint8_t> data;
  uint32_t width, height;
};

// The output size for a frame of `w` x `h` scaled to `width`: the aspect
// kept, both even (4:2:0 chroma), at least 16. Throws SnapshotFailure
// ("bad-size") for a width outside 16 .. w.
void jpegSize(uint32_t w, uint32_t h, uint32_t width, uint32_t& outW, uint32_t& outH);

// Throws SnapshotFailure.
Jpeg encodeJpeg(const RawFrame& frame, const JpegOptions& options);

}  // namespace camgw
