// A V4L2 video capture node used with streaming I/O (MMAP buffers, optionally
// exported as DMABUF for the encoder to import without a copy).
#pragma once

#include <linux/videodev2.h>

#include <cstdint>
#include <string>
#include <vector>

#include "captured_buffer.h"
#include "device_list.h"
#include "v4l2_util.h"

namespace camgw {

struct CaptureFormat {
  uint32_t width = 0, height = 0, fourcc = 0;
  uint32_t bytesperline = 0, sizeimage = 0;
  uint32_t fpsNumerator = 0, fpsDenominator = 1;  // frames per second as a fraction
};

class CaptureDevice {
 public:
  explicit CaptureDevice(const std::string& path);
  const DeviceInfo& info() const { return info_; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  bool offers(uint32_t fourcc) const;

  // S_FMT then S_PARM; returns what the driver chose.
  CaptureFormat configure(uint32_t width, uint32_t height, uint32_t fps, uint32_t fourcc);
  const CaptureFormat& format() const { return fmt_; }

  // REQBUFS + mmap + (EXPBUF when wanted and supported) + QBUF all + STREAMON.
  void start(bool exportDmabuf);
  // STREAMOFF, unmap, close exported fds, REQBUFS 0. Never throws (a gone device
  // still gets its mappings released).
  void stop() noexcept;
  bool streaming() const { return streaming_; }

  // Non-blocking DQBUF: false when no buffer is ready (EAGAIN). `out` carries
  // the buffer's dmabuf fd when the buffers were exported.
  bool dequeue(CapturedBuffer& out);
  void requeue(uint32_t index);

  size_t bufferCount() const { return buffers_.size(); }
  // Whether every buffer was exported as DMABUF (false when not requested or
  // the driver refused VIDIOC_EXPBUF).
  bool exported() const { return exported_; }

  // Asks an H.264 camera for an IDR (V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME);
  // false when the driver has no such control.
  bool forceKeyFrame();

 private:
  struct Buffer {
    Mapping map;
    UniqueFd dmabuf;
  };
  uint32_t bufType() const;

  std::string path_;
  UniqueFd fd_;
  DeviceInfo info_;
  CaptureFormat fmt_;
  std::vector<Buffer> buffers_;
  bool streaming_ = false;
  bool exported_ = false;
};

}  // namespace camgw
