// The JS class NativeAudioCapture: owns an AudioCapture and carries its
// worker's events to JS (onEvent(kind, ...)) while it runs.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "audio_capture.h"
#include "audio_events.h"

namespace camgw {

class AudioCaptureWrap : public Napi::ObjectWrap<AudioCaptureWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AudioCaptureWrap(const Napi::CallbackInfo& info);
  ~AudioCaptureWrap() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Negotiated(const Napi::CallbackInfo& info);

  void deliver(Napi::Env env, Napi::Function cb);
  void stopWorker();
  static void envCleanup(void* arg);

  std::unique_ptr<AudioCapture> capture_;
  Napi::FunctionReference onEvent_;
  AudioEvents events_;
  std::atomic<bool> pending_{false};
  int channels_ = 1;
  bool envGone_ = false;
  napi_env env_;
};

}  // namespace camgw
