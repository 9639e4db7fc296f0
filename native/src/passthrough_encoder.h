// The null encoder: a camera that gives H.264 itself (UVC H.264 webcams).
// Each buffer already holds one access unit; it is copied out (the camera
// buffer goes straight back to the driver) and delivered as it is. Bitrate
// and key frames are asked of the camera.
#pragma once

#include <cstdint>

#include "capture_device.h"
#include "encoder.h"

namespace camgw {

class PassthroughEncoder final : public Encoder {
 public:
  // `camera` must outlive this encoder (the pipeline owns both).
  explicit PassthroughEncoder(CaptureDevice& camera) : camera_(camera) {}

  bool start(const FrameSource&) override { return false; }
  void stop() noexcept override {}
  bool encode(const CapturedBuffer& frame) override;
  // V4L2_CID_MPEG_VIDEO_BITRATE on the camera; throws DeviceError where the
  // camera has no such control.
  void setBitrate(uint32_t kbps) override;
  void requestKeyFrame() override;
  // Its access units are the camera's: they cannot be scaled. Throws DeviceError.
  bool resize(const CaptureFormat& input, const FrameSource& source) override;
  InputLayout inputLayout() const override { return {0, 0}; }

 private:
  CaptureDevice& camera_;
};

}  // namespace camgw
