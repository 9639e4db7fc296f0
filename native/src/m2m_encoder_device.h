// The device side of a stateful V4L2 memory-to-memory H.264 encoder
// (multi-planar), e.g. the Raspberry Pi's bcm2835-codec at /dev/video11.
// Follows the kernel's "Memory-to-Memory Stateful Video Encoder Interface"
// (dev-encoder.rst): CAPTURE format first, then OUTPUT, frame interval,
// controls, REQBUFS on both queues, STREAMON on both; drain with
// V4L2_ENC_CMD_STOP. M2mEncoder (m2m_encoder.h) drives it as an Encoder.
#pragma once

#include <linux/videodev2.h>

#include <cstdint>
#include <string>
#include <vector>

#include "encoder_settings.h"
#include "v4l2_util.h"

namespace camgw {

// One CAPTURE (bitstream) buffer's contents, copied out of its mapping.
struct CodedBuffer {
  std::vector<uint8_t> data;
  timeval timestamp;  // copied by the driver from the OUTPUT buffer
  bool keyframe;
};

class M2mEncoderDevice {
 public:
  M2mEncoderDevice(const std::string& path, const EncoderSettings& s);
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

  // S_FMT CAPTURE (H.264), S_FMT OUTPUT (raw), S_PARM, controls, at the
  // size the settings say (setSize: another one; only while not streaming,
  // as S_FMT is EBUSY while buffers are allocated: vb2_is_busy()).
  void configure(uint32_t inputFourcc, uint32_t bytesperline);
  void setSize(uint32_t width, uint32_t height);
  // Whether the OUTPUT queue's layout equals the camera's, so camera buffers
  // can be queued as they are (DMABUF import).
  bool layoutMatches(uint32_t bytesperline, size_t cameraBufferLength) const;
  uint32_t outputBytesperline() const { return outBytesperline_; }
  uint32_t outputSizeimage() const { return outSizeimage_; }

  // dmabufCount > 0: OUTPUT uses V4L2_MEMORY_DMABUF with that many slots (one per
  // camera buffer); returns false (and stays unstarted) if the driver refuses.
  // 0: MMAP OUTPUT buffers that the caller copies frames into.
  bool start(uint32_t dmabufCount);
  void stop() noexcept;
  bool streaming() const { return streaming_; }
  bool usesDmabuf() const { return dmabuf_; }
  // The OUTPUT buffers queued and not yet reclaimed (DMABUF: the camera
  // buffers the encoder holds).
  std::vector<uint32_t> heldInputs() const;

  // DMABUF: queue camera buffer `slot` (its dmabuf fd). MMAP: copy `data`.
  // Returns false when no OUTPUT buffer is free (the frame is then skipped).
  bool queueDmabuf(uint32_t slot, int dmabufFd, uint32_t length, uint32_t bytesused,
                   const timeval& ts);
  bool queueCopy(const uint8_t* data, uint32_t bytesused, const timeval& ts);
  // Reclaims a consumed OUTPUT buffer; slot = its index (the camera buffer in
  // DMABUF mode). False when none is ready.
  bool reclaimInput(uint32_t& slot);
  // An encoded access unit; false when none is ready.
  bool dequeueOutput(CodedBuffer& out);
  // Whether the last dequeueOutput saw V4L2_BUF_FLAG_LAST (drain finished).
  bool sawLast() const { return sawLast_; }

  void setBitrate(uint32_t kbps);
  // VIDIOC_S_PARM on OUTPUT while streaming: the rate its rate control aims at.
  void setFrameRate(uint32_t fpsNum, uint32_t fpsDen);
  void forceKeyFrame();
  // V4L2_ENC_CMD_STOP: what is queued is encoded, the last CAPTURE buffer
  // flagged V4L2_BUF_FLAG_LAST (sawLast()). False when not streaming or refused.
  bool beginDrain() noexcept;
  // beginDrain() then wait (bounded) for the LAST buffer, discarding what comes out.
  void drain(int timeoutMs) noexcept;

 private:
  void setControl(uint32_t id, int32_t value, const char* name, bool optional);
  void queueCapture(uint32_t index);
  void mapBuffers(uint32_t type, uint32_t count, std::vector<Mapping>& maps);
  void queueOutput(uint32_t index, v4l2_memory memory, const v4l2_plane& plane, const timeval& ts);

  std::string path_;
  UniqueFd fd_;
  EncoderSettings s_;
  uint32_t inputFourcc_ = 0;
  // The rate setFrameRate() last set (0: the settings'), set up again by configure().
  uint32_t rateNum_ = 0, rateDen_ = 0;
  uint32_t outBytesperline_ = 0, outSizeimage_ = 0;
  bool dmabuf_ = false;
  bool streaming_ = false;
  bool sawLast_ = false;
  std::vector<Mapping> outMaps_;  // MMAP OUTPUT buffers
  std::vector<bool> outFree_;     // OUTPUT buffers we may queue
  std::vector<Mapping> capMaps_;  // CAPTURE (bitstream) buffers
};

}  // namespace camgw
