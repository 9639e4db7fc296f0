// The JS class NativePipeline: owns a Pipeline, and a ThreadSafeFunction that
// carries its worker's events onto the JS thread while it runs.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "pipeline.h"

namespace camgw {

class PipelineWrap : public Napi::ObjectWrap<PipelineWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit PipelineWrap(const Napi::CallbackInfo& info);
  ~PipelineWrap() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetBitrate(const Napi::CallbackInfo& info);
  Napi::Value SetFrameRate(const Napi::CallbackInfo& info);
  Napi::Value RequestKeyFrame(const Napi::CallbackInfo& info);
  Napi::Value SetEncodedSize(const Napi::CallbackInfo& info);
  Napi::Value StartLayer(const Napi::CallbackInfo& info);
  Napi::Value StopLayer(const Napi::CallbackInfo& info);
  Napi::Value SetLayerBitrate(const Napi::CallbackInfo& info);
  Napi::Value RequestLayerKeyFrame(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Negotiated(const Napi::CallbackInfo& info);
  Napi::Value Snapshot(const Napi::CallbackInfo& info);

  // Worker -> JS thread.
  void notify(std::function<void(Napi::Env, Napi::Function)> fn);
  void deliverFrames(Napi::Env env, Napi::Function cb);
  void stopWorker();
  void closeAll();
  static void envCleanup(void* arg);

  std::unique_ptr<Pipeline> pipeline_;
  Napi::FunctionReference onEvent_;  // onEvent(kind, payload)
  Napi::ThreadSafeFunction tsfn_;
  bool tsfnActive_ = false;
  std::atomic<bool> framesPending_{false};
  bool envGone_ = false;
  napi_env env_;
};

}  // namespace camgw
