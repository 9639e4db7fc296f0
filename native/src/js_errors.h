// Turns native failures into JS Error objects that carry the device, the
// ioctl and the errno, so native/lib can raise a typed NativeDeviceError.
#pragma once

#include <napi.h>

#include "device_error.h"

namespace camgw {

Napi::Error toJsError(Napi::Env env, const DeviceError& e);

}  // namespace camgw
