// Module entry: listDevices() and the NativePipeline class.
#include <napi.h>

#include "audio_module.h"
#include "device_list.h"
#include "js_errors.h"
#include "pipeline_wrap.h"
#include "sd_notify.h"
#include "v4l2_util.h"

namespace camgw {

namespace {

Napi::Array formatsToJs(Napi::Env env, const std::vector<FormatInfo>& fs) {
  Napi::Array arr = Napi::Array::New(env, fs.size());
  for (size_t i = 0; i < fs.size(); i++) {
    const FormatInfo& f = fs[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("fourcc", fourccToString(f.fourcc));
    o.Set("description", f.description);
    o.Set("compressed", Napi::Boolean::New(env, f.compressed));
    Napi::Array sizes = Napi::Array::New(env, f.sizes.size());
    for (size_t j = 0; j < f.sizes.size(); j++) {
      Napi::Object s = Napi::Object::New(env);
      s.Set("width", f.sizes[j].width);
      s.Set("height", f.sizes[j].height);
      Napi::Array iv = Napi::Array::New(env, f.sizes[j].intervals.size());
      for (size_t k = 0; k < f.sizes[j].intervals.size(); k++) {
        Napi::Object x = Napi::Object::New(env);
        x.Set("numerator", f.sizes[j].intervals[k].numerator);
        x.Set("denominator", f.sizes[j].intervals[k].denominator);
        iv.Set(static_cast<uint32_t>(k), x);
      }
      s.Set("intervals", iv);
      sizes.Set(static_cast<uint32_t>(j), s);
    }
    o.Set("sizes", sizes);
    if (f.hasRange) {
      Napi::Object r = Napi::Object::New(env);
      r.Set("minWidth", f.range.minWidth);
      r.Set("maxWidth", f.range.maxWidth);
      r.Set("stepWidth", f.range.stepWidth);
      r.Set("minHeight", f.range.minHeight);
      r.Set("maxHeight", f.range.maxHeight);
      r.Set("stepHeight", f.range.stepHeight);
      o.Set("sizeRange", r);
    }
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

Napi::Value ListDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<DeviceInfo> devs = listDevices();
  Napi::Array out = Napi::Array::New(env, devs.size());
  for (size_t i = 0; i < devs.size(); i++) {
    const DeviceInfo& d = devs[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", d.path);
    o.Set("driver", d.driver);
    o.Set("card", d.card);
    o.Set("bus", d.bus);
    o.Set("capabilities", Napi::Number::New(env, d.capabilities));
    o.Set("kind", d.kind == DeviceKind::Capture      ? "capture"
                  : d.kind == DeviceKind::M2mEncoder ? "m2m-encoder"
                                                     : "other");
    o.Set("isPiEncoder", Napi::Boolean::New(env, d.isPiEncoder));
    o.Set("multiplanar", Napi::Boolean::New(env, d.multiplanar));
    o.Set("formats", formatsToJs(env, d.formats));
    o.Set("inputFormats", formatsToJs(env, d.inputFormats));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

// sdNotify(socketPath, state): sd_notify(3) for systemd's Type=notify and
// WatchdogSec (native/lib/systemd-notify.ts).
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsString()) {
    Napi::TypeError::New(env, "sdNotify(socketPath: string, state: string)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  try {
    sdNotify(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value());
  } catch (const DeviceError& e) {
    toJsError(env, e).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("listDevices", Napi::Function::New(env, ListDevices));
  exports.Set("NativePipeline", PipelineWrap::Init(env));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify));
  initAudio(env, exports);
  return exports;
}

}  // namespace camgw

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return camgw::Init(env, exports);
}

NODE_API_MODULE(camgw_native, InitModule)
