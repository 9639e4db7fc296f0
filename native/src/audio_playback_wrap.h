// The JS class NativeAudioPlayback: owns an AudioPlayback, takes Opus packets
// from JS (push) and carries its worker's events to JS while it runs.
#pragma once

#include <napi.h>

#include <memory>

#include "audio_events.h"
#include "audio_playback.h"

namespace camgw {

class AudioPlaybackWrap : public Napi::ObjectWrap<AudioPlaybackWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AudioPlaybackWrap(const Napi::CallbackInfo& info);
  ~AudioPlaybackWrap() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Push(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Negotiated(const Napi::CallbackInfo& info);

  void stopWorker();
  static void envCleanup(void* arg);

  std::unique_ptr<AudioPlayback> playback_;
  Napi::FunctionReference onEvent_;
  AudioEvents events_;
  bool envGone_ = false;
  napi_env env_;
};

}  // namespace camgw
