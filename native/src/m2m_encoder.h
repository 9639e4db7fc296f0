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
  // The stateful encoder interface (dev-encoder.rst) takes a new OUTPUT size
  // only with both queues stopped and their buffers freed (bcm2835-codec
  // sets the VPU's port formats at S_FMT, and S_FMT is EBUSY while buffers
  // are allocated): drained (what it holds comes out), STREAMOFF and
  // REQBUFS(0), S_FMT at the new size, REQBUFS and STREAMON again.
  bool resize(const CaptureFormat& input, const FrameSource& source) override;
  // The OUTPUT (raw) layout the driver chose: what a caller copying frames
  // in writes. One plane: Y, then U and V at half the stride; the driver
  // may pad the rows (bcm2835-codec aligns the height to 16), which
  // sizeimage shows.
  InputLayout inputLayout() const override;

 private:
  // Drains on the worker, handing out what comes (bounded like drain()).
  void finish();

  M2mEncoderDevice device_;
  CaptureFormat input_;
  bool zeroCopy_;
  // Whether camera buffers could be imported at the camera's own layout
  // (known at construction, whatever size it is set up for since).
  bool importsCamera_ = false;
  bool forceIdrNext_ = true;
  // Frames queued and not yet out: (buffer timestamp µs, queued at monotonic µs).
  std::deque<std::pair<int64_t, int64_t>> inFlight_;
};

}  // namespace camgw
