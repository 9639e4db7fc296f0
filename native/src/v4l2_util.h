// Small V4L2 helpers shared by capture, encoder and device listing.
#pragma once

#include <linux/videodev2.h>

#include <cstdint>
#include <string>

namespace camgw {

// ioctl that retries EINTR (a signal during a blocking call is not a failure;
// rpicam-apps and v4l2-ctl do the same). Returns 0 or -1 with errno set.
int xioctl(int fd, unsigned long request, void* arg);

// xioctl that throws DeviceError naming the request on failure.
void checkedIoctl(int fd, const std::string& device, unsigned long request, const char* name,
                  void* arg);

#define CAMGW_IOCTL(fd, dev, req, arg) ::camgw::checkedIoctl((fd), (dev), (req), #req, (arg))

std::string fourccToString(uint32_t fourcc);
// Accepts "YUYV", "NV12", "YU12", "H264" (any 4 characters).
uint32_t fourccFromString(const std::string& s);

// The capabilities of this node (device_caps when the driver fills it in, as
// QUERYCAP's `capabilities` describes the whole physical device).
uint32_t nodeCaps(const v4l2_capability& cap);

// RAII file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// RAII mmap'd region.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, size_t len) : addr_(addr), len_(len) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&& o) noexcept : addr_(o.addr_), len_(o.len_) { o.addr_ = nullptr; }
  Mapping& operator=(Mapping&& o) noexcept;
  ~Mapping() { reset(); }
  void reset();
  uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
  size_t size() const { return len_; }

 private:
  void* addr_ = nullptr;
  size_t len_ = 0;
};

// Opens a V4L2 node O_RDWR|O_NONBLOCK|O_CLOEXEC; throws DeviceError("open").
UniqueFd openDevice(const std::string& path);

}  // namespace camgw
