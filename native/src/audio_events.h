// Carries a native worker's events onto the JS thread through one
// ThreadSafeFunction, for the audio classes' wrappers. The worker never
// blocks: a call on a closing function is dropped. While open, the channel
// keeps its JS object alive (Ref), so the worker can always call back into it.
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>

#include "device_error.h"
#include "js_errors.h"

namespace camgw {

class AudioEvents {
 public:
  using Fn = std::function<void(Napi::Env, Napi::Function)>;

  template <class Wrap>
  void open(Napi::Env env, const Napi::Function& onEvent, const char* name, Wrap* self) {
    if (open_) return;
    tsfn_ = Napi::ThreadSafeFunction::New(env, onEvent, name, 0, 1, self,
                                          [](Napi::Env, Wrap* s) { s->Unref(); });
    self->Ref();
    open_ = true;
  }

  // Any thread.
  void post(Fn fn) {
    tsfn_.NonBlockingCall([fn = std::move(fn)](Napi::Env env, Napi::Function cb) {
      if (env != nullptr) fn(env, cb);
    });
  }

  // The events both audio workers report, as the JS side's NativeAudioEvent
  // tuples (native/lib/audio-binding.ts). Any thread.
  void postError(const DeviceError& err, bool fatal) {
    post([err, fatal](Napi::Env e, Napi::Function cb) {
      cb.Call(
          {Napi::String::New(e, "error"), toJsError(e, err).Value(), Napi::Boolean::New(e, fatal)});
    });
  }
  void postXrun(uint64_t n) {
    post([n](Napi::Env e, Napi::Function cb) {
      cb.Call({Napi::String::New(e, "xrun"), Napi::Number::New(e, static_cast<double>(n))});
    });
  }
  void postUnplugged() {
    post([](Napi::Env e, Napi::Function cb) { cb.Call({Napi::String::New(e, "unplugged")}); });
  }

  // After the worker is joined: calls already queued still run, then the
  // finalizer drops the reference to the JS object.
  void close() {
    if (!open_) return;
    tsfn_.Release();
    open_ = false;
  }

 private:
  Napi::ThreadSafeFunction tsfn_;
  bool open_ = false;
};

}  // namespace camgw
