// One snapshot, off the JS thread: a Napi::AsyncWorker that waits on the
// pipeline's RawFrameTap for the next captured frame and encodes it as JPEG
// (jpeg_encoder.h) on a libuv pool thread, then settles a promise. It holds
// the tap, never the pipeline, so closing the pipeline while it waits only
// makes it fail (`stopped`).
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "jpeg_encoder.h"
#include "raw_frame_tap.h"

namespace camgw {

class SnapshotJob : public Napi::AsyncWorker {
 public:
  SnapshotJob(Napi::Env env, std::shared_ptr<RawFrameTap> tap, JpegOptions options, int timeoutMs);
  Napi::Promise promise() { return deferred_.Promise(); }

  // A promise rejected at once with a SnapshotError-shaped Error.
  static Napi::Value rejected(Napi::Env env, const std::string& reason, const std::string& message);

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<RawFrameTap> tap_;
  JpegOptions options_;
  int timeoutMs_;
  Jpeg jpeg_{};
  int64_t captureTimeUs_ = 0;
  uint32_t sourceWidth_ = 0, sourceHeight_ = 0;
  std::string reason_;
};

}  // namespace camgw
