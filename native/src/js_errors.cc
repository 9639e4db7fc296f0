#include "js_errors.h"

namespace camgw {

Napi::Error toJsError(Napi::Env env, const DeviceError& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  Napi::Object o = err.Value();
  o.Set("code", "device");
  o.Set("device", e.device());
  o.Set("ioctl", e.call());
  o.Set("errno", Napi::Number::New(env, e.err()));
  o.Set("errnoName", e.err() ? errnoName(e.err()) : std::string());
  return err;
}

}  // namespace camgw
