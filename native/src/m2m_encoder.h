// The V4L2 M2M hardware encoder (e.g. the Pi's bcm2835-codec) as an Encoder.
// Camera buffers go to the device's OUTPUT queue in place as DMABUF, or are
// copied into its own MMAP buffers; access units come back on its CAPTURE
// queue some frames later and are matched to the frame they came from by
// the timestamp the driver copies across (V4L2_BUF_FLAG_TIMESTAMP_COPY).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include "capture_device.h"
#include "encoder.h"
#include "encoder_settings.h"
#include "m2m_encoder_device.h"

namespace camgw {

class M2mEncoder final : public Encoder {
 public:
  // Opens `path` and configures it for frames in `input` (the camera's
  // negotiated format); zeroCopy false forbids DMABUF import. Throws DeviceError.
  M2mEncoder(const std::string& path, const EncoderSettings& s, const CaptureFormat& input,
             bool zeroCopy);

  bool importsDmabuf() const override;
  bool start(const FrameSource& source) override;
  void stop() noexcept override { device_.stop(); }
  void drain() noexcept override;
  bool encode(const CapturedBuffer& frame) override;
  int pollFd() const override { return device_.fd(); }
  void onPollEvents(short revents) override;
  void setBitrate(uint32_t kbps) override { device_.setBitrate(kbps); }
  void requestKeyFrame() override { forceIdrNext_ = true; }
  void setFrameRate(uint32_t fpsNum, uint32_t fpsDen) override {
    device_.setFrameRate(fpsNum, fpsDen);
  }
  // The OUTPUT (raw) layout the driver chose: what a caller copying frames in writes.
  uint32_t inputBytesperline() const { return device_.outputBytesperline(); }
  uint32_t inputSizeimage() const { return device_.outputSizeimage(); }

 private:
  M2mEncoderDevice device_;
  CaptureFormat input_;
  bool zeroCopy_;
  bool forceIdrNext_ = true;
  // Frames queued and not yet out: (buffer timestamp µs, queued at monotonic µs).
  std::deque<std::pair<int64_t, int64_t>> inFlight_;
};

}  // namespace camgw
