#include "v4l2_util.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "device_error.h"

namespace camgw {

int xioctl(int fd, unsigned long request, void* arg) {
  int r;
  do {
    r = ioctl(fd, request, arg);
  } while (r == -1 && errno == EINTR);
  return r;
}

void checkedIoctl(int fd, const std::string& device, unsigned long request, const char* name,
                  void* arg) {
  if (xioctl(fd, request, arg) == -1) throw DeviceError(device, name, errno);
}

std::string fourccToString(uint32_t f) {
  std::string s;
  for (int i = 0; i < 4; i++) s.push_back(static_cast<char>((f >> (8 * i)) & 0xff));
  return s;
}

uint32_t fourccFromString(const std::string& s) {
  if (s.size() != 4) return 0;
  return v4l2_fourcc(s[0], s[1], s[2], s[3]);
}

uint32_t nodeCaps(const v4l2_capability& cap) {
  return (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Mapping& Mapping::operator=(Mapping&& o) noexcept {
  if (this != &o) {
    reset();
    addr_ = o.addr_;
    len_ = o.len_;
    o.addr_ = nullptr;
  }
  return *this;
}

void Mapping::reset() {
  if (addr_ != nullptr) munmap(addr_, len_);
  addr_ = nullptr;
  len_ = 0;
}

UniqueFd openDevice(const std::string& path) {
  // O_NONBLOCK: DQBUF must never block; the worker waits in poll() so it can
  // also watch its wake eventfd.
  int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw DeviceError(path, "open", errno);
  return UniqueFd(fd);
}

}  // namespace camgw
