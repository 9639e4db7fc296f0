// The encoder interface: one implementation per way of getting H.264 from a
// captured frame — the V4L2 M2M encoder (m2m_encoder.h), libx264
// (x264_encoder.h), and the camera's own H.264 passed through
// (passthrough_encoder.h, the null encoder). Shaped like rpicam-apps'
// Encoder (encoder/encoder.hpp): frames go in through encode(); the encoder
// hands each camera buffer back through the input-done callback once it no
// longer reads it, and each access unit out through the output-ready
// callback. A synchronous encoder (x264, passthrough) does both before
// encode() returns; an asynchronous one (M2M) later, from onPollEvents(),
// when the worker sees its pollFd() ready.
//
// The worker thread calls encode(), onPollEvents(), drain(), setBitrate(),
// setFrameRate(), requestKeyFrame() and resize(), and the callbacks run on
// it. Construction, start() and stop() happen on the JS thread while no
// worker runs (resize() too, then).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "capture_device.h"
#include "captured_buffer.h"

namespace camgw {

// One access unit out of an encoder.
struct EncodedUnit {
  std::vector<uint8_t> data;  // Annex-B, one access unit
  int64_t captureTimeUs;      // the camera buffer's timestamp, CLOCK_MONOTONIC µs
  bool keyframe;
  double encodeTimeUs;  // frame in to access unit out; < 0 when nothing was encoded
};

// What start() may rely on about the frames encode() will be given.
struct FrameSource {
  uint32_t bufferCount;  // camera buffers: every CapturedBuffer::index is below it
  bool dmabuf;           // every CapturedBuffer carries its dmabuf fd
};

// How a frame given to encode() is laid out in memory for a planar I420
// input: the luma row pitch (the chroma planes' is half of it), and the
// luma rows before the chroma planes (a driver may pad the height).
struct InputLayout {
  uint32_t bytesperline, rows;
};

class Encoder {
 public:
  using InputDone = std::function<void(uint32_t index)>;
  using OutputReady = std::function<void(EncodedUnit&&)>;

  virtual ~Encoder() = default;
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // Set once, before start(). The pipeline requeues the camera buffer on
  // input-done and queues the access unit for JS on output-ready.
  void setInputDoneCallback(InputDone cb) { inputDone_ = std::move(cb); }
  void setOutputReadyCallback(OutputReady cb) { outputReady_ = std::move(cb); }

  // Whether it could read camera buffers in place (DMABUF import) with the
  // layout it was configured for; the pipeline then has the camera export them.
  virtual bool importsDmabuf() const { return false; }
  // Allocates buffers and starts; the camera streams already. Returns whether
  // camera buffers are read in place (zero copy). Throws DeviceError.
  virtual bool start(const FrameSource& source) = 0;
  // Releases what start() allocated; never throws. start() may follow.
  virtual void stop() noexcept = 0;
  // On the worker as it ends: lets the encoder finish what it holds (bounded);
  // what comes out is discarded.
  virtual void drain() noexcept {}

  // Offers one captured frame. Its buffer is handed back through input-done
  // exactly once, before this returns or later. False: the frame was skipped
  // (no free input, an encoder error), and its buffer is already handed back.
  virtual bool encode(const CapturedBuffer& frame) = 0;

  // Frames of another size or layout from now on: `input` (the pipeline's
  // scaled I420, or the camera's own frames again: docs/native.md, "Size
  // steps"). The camera streams on; only the encoder is set up again at the
  // new size. Before start() that is all; once started it restarts in
  // place, what it holds for the old size coming out first, with frames
  // from `source`, and the next access unit is an IDR with the new
  // SPS/PPS. Returns whether frames are then read in place. Throws
  // DeviceError: set up for `input` or not, it is then stopped.
  virtual bool resize(const CaptureFormat& input, const FrameSource& source) = 0;
  // How encode()'s frames must be laid out, for the size it was set up for
  // (I420 input: what a caller scaling frames for it writes).
  virtual InputLayout inputLayout() const = 0;

  // A descriptor the worker polls (POLLIN | POLLOUT) for finished work, or -1
  // when encode() finishes every frame before it returns.
  virtual int pollFd() const { return -1; }
  // pollFd() reported `revents`: hand back finished inputs and outputs.
  // Throws DeviceError (ENODEV) when the device has gone.
  virtual void onPollEvents(short revents) { (void)revents; }

  // Live bitrate change; throws DeviceError when it is refused (the stream
  // goes on at the old rate).
  virtual void setBitrate(uint32_t kbps) = 0;
  // Makes the next access unit it can an IDR.
  virtual void requestKeyFrame() = 0;
  // From now on it is given fpsNum/fpsDen frames a second (the pipeline
  // drops the others before encode()), not the camera's rate: its rate
  // control spends the bitrate on those. Throws DeviceError when refused
  // (the frames still come at the new rate). An encoder with no rate
  // control of its own (the camera's H.264 passed through) ignores it.
  virtual void setFrameRate(uint32_t fpsNum, uint32_t fpsDen) {
    (void)fpsNum;
    (void)fpsDen;
  }

 protected:
  Encoder() = default;
  void inputDone(uint32_t index) const { inputDone_(index); }
  void outputReady(EncodedUnit&& unit) const { outputReady_(std::move(unit)); }

 private:
  InputDone inputDone_;
  OutputReady outputReady_;
};

// Whether an Annex-B access unit holds an IDR slice (nal_unit_type 5, H.264
// 7.4.1.2.3): encoders whose driver may not flag key frames check the bytes.
inline bool containsIdr(const uint8_t* p, size_t n) {
  for (size_t i = 0; i + 3 < n; i++) {
    if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && (p[i + 3] & 0x1f) == 5) return true;
  }
  return false;
}

}  // namespace camgw
