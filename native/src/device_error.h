// A failed system call on a device: names the call, the errno and the device
// so the message a user sees says exactly what went wrong
// ("VIDIOC_S_FMT: EINVAL (Invalid argument) on /dev/video0").
#pragma once

#include <stdexcept>
#include <string>

namespace camgw {

class DeviceError : public std::runtime_error {
 public:
  DeviceError(std::string device, std::string call, int err);
  // A failure that is not one system call (e.g. "no H.264 format").
  DeviceError(std::string device, std::string call, std::string message);

  const std::string& device() const { return device_; }
  const std::string& call() const { return call_; }
  int err() const { return err_; }
  // ENODEV / ENXIO / EIO after an unplug: the device has gone.
  bool isUnplug() const;

 private:
  std::string device_;
  std::string call_;
  int err_;
};

// "EINVAL" for EINVAL; "E<number>" for values without a name here.
std::string errnoName(int err);

}  // namespace camgw
