// A raw camera frame scaled to another size in I420, on the pipeline's
// worker: what the second, lower encoding (encoding_layer.h) and a main
// encoding stepped down in size (docs/native.md, "Size steps") feed their
// encoders, so the camera keeps streaming at the size it was opened at.
// The camera's buffer is only read here (converted to I420 at full size
// when it is YUYV or NV12, then scaled with libyuv's box filter), never held.
#pragma once

#include <cstdint>
#include <vector>

#include "captured_buffer.h"

namespace camgw {

class FrameScaler {
 public:
  // Frames of the camera's size, raw format (YUYV, NV12 or YU12) and luma
  // row pitch.
  FrameScaler(uint32_t cameraWidth, uint32_t cameraHeight, uint32_t cameraFourcc,
              uint32_t cameraBytesperline);

  // The scaled picture: width x height, laid out as the encoder takes it
  // (one I420 plane set with `stride`, the chroma planes after `rows` luma
  // rows: an M2M driver may pad both). A target of another aspect ratio
  // than the camera's is a centre crop of the camera's picture, not a
  // stretch (a viewer's 640x360 of a 4:3 camera, as the sensor would crop).
  void setTarget(uint32_t width, uint32_t height, uint32_t stride, uint32_t rows);
  uint32_t width() const { return width_; }
  uint32_t height() const { return height_; }

  // Scales one camera frame; false when it is short or libyuv refuses it.
  bool scale(const CapturedBuffer& camera);
  // The last scaled picture as a frame to encode: its own buffer (index
  // kNotCameraBuffer: nothing to hand back to the camera), the camera
  // frame's timestamp.
  CapturedBuffer frame(const timeval& timestamp) const;

 private:
  uint32_t camWidth_, camHeight_, camFourcc_, camStride_;
  uint32_t width_ = 0, height_ = 0, stride_ = 0, rows_ = 0;
  // The part of the camera's picture kept (the crop), even offsets.
  uint32_t cropX_ = 0, cropY_ = 0, cropWidth_ = 0, cropHeight_ = 0;
  std::vector<uint8_t> full_;  // YUYV and NV12 converted to I420 at the camera's size
  std::vector<uint8_t> scaled_;
};

}  // namespace camgw
