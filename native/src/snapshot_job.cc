#include "snapshot_job.h"

#include <utility>

namespace camgw {

namespace {

// The shape native/lib/errors.ts turns into a SnapshotError.
Napi::Error snapshotError(Napi::Env env, const std::string& reason, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Value().Set("code", "snapshot");
  err.Value().Set("reason", reason);
  return err;
}

}  // namespace

SnapshotJob::SnapshotJob(Napi::Env env, std::shared_ptr<RawFrameTap> tap, JpegOptions options,
                         int timeoutMs)
    : Napi::AsyncWorker(env, "camgw-snapshot"),
      deferred_(Napi::Promise::Deferred::New(env)),
      tap_(std::move(tap)),
      options_(options),
      timeoutMs_(timeoutMs) {}

Napi::Value SnapshotJob::rejected(Napi::Env env, const std::string& reason,
                                  const std::string& message) {
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(snapshotError(env, reason, message).Value());
  return d.Promise();
}

void SnapshotJob::Execute() {
  TapFailure why = TapFailure::None;
  std::shared_ptr<const RawFrame> frame = tap_->wait(timeoutMs_, why);
  if (!frame) {
    switch (why) {
      case TapFailure::NotRunning:
        reason_ = "not-running";
        SetError("the pipeline is not running: start it before taking a snapshot");
        break;
      case TapFailure::Stopped:
        reason_ = "stopped";
        SetError("the pipeline stopped before a frame came");
        break;
      default:
        reason_ = "timeout";
        SetError("no frame captured within " + std::to_string(timeoutMs_) + " ms");
        break;
    }
    return;
  }
  try {
    jpeg_ = encodeJpeg(*frame, options_);
    captureTimeUs_ = frame->captureTimeUs;
    sourceWidth_ = frame->width;
    sourceHeight_ = frame->height;
  } catch (const SnapshotFailure& e) {
    reason_ = e.reason();
    SetError(e.what());
  } catch (const std::exception& e) {
    reason_ = "encode-failed";
    SetError(e.what());
  }
}

void SnapshotJob::OnOK() {
  Napi::Env env = Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("jpeg", Napi::Buffer<uint8_t>::Copy(env, jpeg_.data.data(), jpeg_.data.size()));
  o.Set("width", jpeg_.width);
  o.Set("height", jpeg_.height);
  o.Set("sourceWidth", sourceWidth_);
  o.Set("sourceHeight", sourceHeight_);
  o.Set("captureTimeUs", Napi::Number::New(env, double(captureTimeUs_)));
  deferred_.Resolve(o);
}

void SnapshotJob::OnError(const Napi::Error& e) {
  deferred_.Reject(snapshotError(Env(), reason_, e.Message()).Value());
}

}  // namespace camgw
