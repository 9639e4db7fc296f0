#include "device_error.h"

#include <cerrno>
#include <cstring>

namespace camgw {

namespace {
std::string describe(const std::string& device, const std::string& call, int err) {
  return call + ": " + errnoName(err) + " (" + std::strerror(err) + ") on " + device;
}
}  // namespace

DeviceError::DeviceError(std::string device, std::string call, int err)
    : std::runtime_error(describe(device, call, err)),
      device_(std::move(device)),
      call_(std::move(call)),
      err_(err) {}

DeviceError::DeviceError(std::string device, std::string call, std::string message)
    : std::runtime_error(call + ": " + message + " on " + device),
      device_(std::move(device)),
      call_(std::move(call)),
      err_(0) {}

bool DeviceError::isUnplug() const { return err_ == ENODEV || err_ == ENXIO; }

std::string errnoName(int err) {
  switch (err) {
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EINTR:
      return "EINTR";
    case EIO:
      return "EIO";
    case ENXIO:
      return "ENXIO";
    case EBADF:
      return "EBADF";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EFAULT:
      return "EFAULT";
    case EBUSY:
      return "EBUSY";
    case ENODEV:
      return "ENODEV";
    case EINVAL:
      return "EINVAL";
    case ENOSPC:
      return "ENOSPC";
    case EPIPE:
      return "EPIPE";
    case EBADFD:  // ALSA: the PCM is not in a state for this call
      return "EBADFD";
    case ESTRPIPE:  // ALSA: the PCM is suspended
      return "ESTRPIPE";
    case ERANGE:
      return "ERANGE";
    case ENOTTY:
      return "ENOTTY";
    case ENOSYS:
      return "ENOSYS";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    default:
      return "E" + std::to_string(err);
  }
}

}  // namespace camgw
