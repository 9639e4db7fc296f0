#include "pipeline_wrap.h"

#include <memory>
#include <utility>
#include <vector>

#include "js_errors.h"
#include "snapshot_job.h"
#include "v4l2_util.h"

namespace camgw {

namespace {

[[noreturn]] void typeError(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}

uint32_t positiveInt(Napi::Env env, const Napi::Object& o, const char* key, bool required,
                     uint32_t fallback, uint32_t max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) {
    if (required) typeError(env, std::string("options.") + key + " is required");
    return fallback;
  }
  if (!v.IsNumber()) typeError(env, std::string("options.") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    typeError(env, std::string("options.") + key + " must be an integer from 1 to " +
                       std::to_string(max));
  }
  return static_cast<uint32_t>(d);
}

std::string optString(Napi::Env env, const Napi::Object& o, const char* key,
                      const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) typeError(env, std::string("options.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

PipelineOptions parseOptions(Napi::Env env, const Napi::Value& arg) {
  if (!arg.IsObject()) typeError(env, "options must be an object");
  Napi::Object o = arg.As<Napi::Object>();
  PipelineOptions p;
  if (!o.Get("device").IsString()) typeError(env, "options.device must be a string");
  p.device = o.Get("device").As<Napi::String>().Utf8Value();
  if (p.device.empty()) typeError(env, "options.device must not be empty");
  p.width = positiveInt(env, o, "width", true, 0, 16384);
  p.height = positiveInt(env, o, "height", true, 0, 16384);
  p.fps = positiveInt(env, o, "fps", true, 0, 240);
  const std::string pf = optString(env, o, "pixelFormat", "auto");
  if (pf == "auto") {
    p.fourcc = 0;
  } else if (pf == "YUYV" || pf == "NV12" || pf == "YU12" || pf == "H264") {
    p.fourcc = fourccFromString(pf);
  } else {
    typeError(env, "options.pixelFormat must be auto, YUYV, NV12, YU12 or H264");
  }
  const std::string enc = optString(env, o, "encoder", "auto");
  if (enc == "auto")
    p.encoder = EncoderMode::Auto;
  else if (enc == "hardware")
    p.encoder = EncoderMode::Hardware;
  else if (enc == "software")
    p.encoder = EncoderMode::Software;
  else if (enc == "passthrough")
    p.encoder = EncoderMode::Passthrough;
  else
    typeError(env, "options.encoder must be auto, hardware, software or passthrough");
  p.encoderDevice = optString(env, o, "encoderDevice", "");
  p.settings.bitrateKbps = positiveInt(env, o, "bitrateKbps", true, 0, 100000);
  const std::string mode = optString(env, o, "bitrateMode", "cbr");
  if (mode != "cbr" && mode != "vbr") typeError(env, "options.bitrateMode must be cbr or vbr");
  p.settings.cbr = mode == "cbr";
  p.settings.keyframeInterval = positiveInt(env, o, "keyframeInterval", false, 2 * p.fps, 3600);
  const std::string prof = optString(env, o, "profile", "constrained-baseline");
  if (prof == "constrained-baseline")
    p.settings.profile = H264Profile::ConstrainedBaseline;
  else if (prof == "baseline")
    p.settings.profile = H264Profile::Baseline;
  else if (prof == "main")
    p.settings.profile = H264Profile::Main;
  else if (prof == "high")
    p.settings.profile = H264Profile::High;
  else
    typeError(env, "options.profile must be constrained-baseline, baseline, main or high");
  const std::string level = optString(env, o, "level", "auto");
  if (level != "auto") {
    p.settings.levelIdc = parseLevel(level);
    if (p.settings.levelIdc == 0) typeError(env, "options.level must be an H.264 level like 3.1");
  }
  p.queueDepth = positiveInt(env, o, "queueDepth", false, 8, 1024);
  const Napi::Value zc = o.Get("zeroCopy");
  if (!zc.IsUndefined() && !zc.IsBoolean()) typeError(env, "options.zeroCopy must be a boolean");
  p.zeroCopy = zc.IsUndefined() || zc.As<Napi::Boolean>().Value();
  return p;
}

// Hands an access unit's bytes to JS without copying them: the Buffer wraps
// the vector's storage and frees it when V8 collects the Buffer. The worker
// has already let go of the frame (it moved out of the queue on this
// thread), so JS holding it never holds up the worker. Where a runtime
// forbids external buffers (napi_no_external_buffers_allowed, e.g. Electron's
// V8 sandbox), NewOrCopy copies and frees at once.
Napi::Buffer<uint8_t> adoptAsBuffer(Napi::Env env, std::vector<uint8_t>&& bytes) {
  auto owned = std::make_unique<std::vector<uint8_t>>(std::move(bytes));
  Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::NewOrCopy(
      env, owned->data(), owned->size(),
      [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, owned.get());
  // The finalizer owns the vector now (NewOrCopy threw otherwise, and then
  // `owned` frees it).
  owned.release();
  return b;
}

}  // namespace

Napi::Function PipelineWrap::Init(Napi::Env env) {
  return DefineClass(
      env, "NativePipeline",
      {InstanceMethod<&PipelineWrap::Start>("start"), InstanceMethod<&PipelineWrap::Stop>("stop"),
       InstanceMethod<&PipelineWrap::Close>("close"),
       InstanceMethod<&PipelineWrap::SetBitrate>("setBitrate"),
       InstanceMethod<&PipelineWrap::SetFrameRate>("setFrameRate"),
       InstanceMethod<&PipelineWrap::RequestKeyFrame>("requestKeyFrame"),
       InstanceMethod<&PipelineWrap::SetEncodedSize>("setEncodedSize"),
       InstanceMethod<&PipelineWrap::StartLayer>("startLayer"),
       InstanceMethod<&PipelineWrap::StopLayer>("stopLayer"),
       InstanceMethod<&PipelineWrap::SetLayerBitrate>("setLayerBitrate"),
       InstanceMethod<&PipelineWrap::RequestLayerKeyFrame>("requestLayerKeyFrame"),
       InstanceMethod<&PipelineWrap::Stats>("stats"),
       InstanceMethod<&PipelineWrap::Negotiated>("negotiated"),
       InstanceMethod<&PipelineWrap::Snapshot>("snapshot")});
}

PipelineWrap::PipelineWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<PipelineWrap>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  PipelineOptions opts = parseOptions(env, info[0]);
  if (!info[1].IsFunction()) typeError(env, "onEvent must be a function");
  onEvent_ = Napi::Persistent(info[1].As<Napi::Function>());

  PipelineEvents ev;
  ev.framesReady = [this] {
    if (!framesPending_.exchange(true)) {
      notify([this](Napi::Env e, Napi::Function cb) { deliverFrames(e, cb); });
    }
  };
  ev.error = [this](const DeviceError& err, bool fatal) {
    DeviceError copy = err;
    notify([copy, fatal](Napi::Env e, Napi::Function cb) {
      cb.Call({Napi::String::New(e, "error"), toJsError(e, copy).Value(),
               Napi::Boolean::New(e, fatal)});
    });
  };
  ev.unplugged = [this] {
    notify([](Napi::Env e, Napi::Function cb) { cb.Call({Napi::String::New(e, "unplugged")}); });
  };
  try {
    pipeline_ = std::make_unique<Pipeline>(opts, std::move(ev));
  } catch (const DeviceError& e) {
    throw toJsError(env, e);
  }
  napi_add_env_cleanup_hook(env, &PipelineWrap::envCleanup, this);
}

PipelineWrap::~PipelineWrap() {
  closeAll();
  if (!envGone_) napi_remove_env_cleanup_hook(env_, &PipelineWrap::envCleanup, this);
}

void PipelineWrap::envCleanup(void* arg) {
  // Process exit / worker teardown: join the worker and release the devices.
  // The ThreadSafeFunction is torn down by Node itself at this point.
  auto* self = static_cast<PipelineWrap*>(arg);
  self->envGone_ = true;
  if (self->pipeline_) self->pipeline_->close();
}

void PipelineWrap::notify(std::function<void(Napi::Env, Napi::Function)> fn) {
  // Never blocks the worker: a closing function just refuses the call.
  tsfn_.NonBlockingCall([fn = std::move(fn)](Napi::Env env, Napi::Function cb) {
    if (env != nullptr) fn(env, cb);
  });
}

void PipelineWrap::deliverFrames(Napi::Env env, Napi::Function cb) {
  framesPending_ = false;
  if (!pipeline_) return;
  for (EncodedFrame& f : pipeline_->takeFrames()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", adoptAsBuffer(env, std::move(f.data)));
    o.Set("captureTimeUs", Napi::Number::New(env, static_cast<double>(f.captureTimeUs)));
    o.Set("keyframe", Napi::Boolean::New(env, f.keyframe));
    o.Set("width", Napi::Number::New(env, f.width));
    o.Set("height", Napi::Number::New(env, f.height));
    o.Set("layer", Napi::Number::New(env, f.layer));
    cb.Call({Napi::String::New(env, "frame"), o});
  }
}

void PipelineWrap::stopWorker() {
  if (pipeline_) pipeline_->stop();
  if (tsfnActive_) {
    // The worker has been joined, so nothing calls the function any more;
    // calls already queued still run, and the finalizer drops our self-reference.
    tsfn_.Release();
    tsfnActive_ = false;
  }
}

void PipelineWrap::closeAll() {
  stopWorker();
  if (pipeline_) pipeline_->close();
}

Napi::Value PipelineWrap::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!pipeline_ || pipeline_->running()) return env.Undefined();
  if (!tsfnActive_) {
    tsfn_ = Napi::ThreadSafeFunction::New(env, onEvent_.Value(), "camgw-pipeline", 0, 1, this,
                                          [](Napi::Env, PipelineWrap* self) { self->Unref(); });
    // Keep this object alive while its worker may still call back into it.
    Ref();
    tsfnActive_ = true;
  }
  try {
    pipeline_->start();
  } catch (const DeviceError& e) {
    stopWorker();
    throw toJsError(env, e);
  }
  return env.Undefined();
}

Napi::Value PipelineWrap::Stop(const Napi::CallbackInfo& info) {
  stopWorker();
  return info.Env().Undefined();
}

Napi::Value PipelineWrap::Close(const Napi::CallbackInfo& info) {
  closeAll();
  return info.Env().Undefined();
}

Napi::Value PipelineWrap::SetBitrate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) typeError(env, "kbps must be a number");
  const double k = info[0].As<Napi::Number>().DoubleValue();
  if (!(k >= 1 && k <= 100000) || k != static_cast<double>(static_cast<uint32_t>(k))) {
    typeError(env, "kbps must be an integer from 1 to 100000");
  }
  if (pipeline_) pipeline_->setBitrate(static_cast<uint32_t>(k));
  return env.Undefined();
}

// setFrameRate(fps): 1..1000 frames a second, at most the camera's (more
// is the camera's); a DeviceError for the camera's own H.264.
Napi::Value PipelineWrap::SetFrameRate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) typeError(env, "fps must be a number");
  const double fps = info[0].As<Napi::Number>().DoubleValue();
  if (!(fps >= 1 && fps <= 1000)) typeError(env, "fps must be from 1 to 1000");
  if (!pipeline_) throw toJsError(env, DeviceError("pipeline", "frame rate", "pipeline is closed"));
  try {
    pipeline_->setFrameRate(fps);
  } catch (const DeviceError& e) {
    throw toJsError(env, e);
  }
  return env.Undefined();
}

// setEncodedSize({width, height}): bad options are a TypeError; a size the
// pipeline refuses (odd, larger than the camera's, passthrough) throws the
// DeviceError.
Napi::Value PipelineWrap::SetEncodedSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) typeError(env, "size must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  const uint32_t width = positiveInt(env, o, "width", true, 0, 16384);
  const uint32_t height = positiveInt(env, o, "height", true, 0, 16384);
  if (!pipeline_) throw toJsError(env, DeviceError("pipeline", "resize", "pipeline is closed"));
  try {
    pipeline_->setEncodedSize(width, height);
  } catch (const DeviceError& e) {
    throw toJsError(env, e);
  }
  return env.Undefined();
}

Napi::Value PipelineWrap::RequestKeyFrame(const Napi::CallbackInfo& info) {
  if (pipeline_) pipeline_->requestKeyFrame();
  return info.Env().Undefined();
}

// startLayer({width, height, bitrateKbps}) -> "hardware" | "software": the
// encoder the lower encoding got. Bad options are a TypeError; a layer the
// devices refuse throws the DeviceError (the main encoding goes on).
Napi::Value PipelineWrap::StartLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) typeError(env, "layer options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  LayerOptions lo;
  lo.width = positiveInt(env, o, "width", true, 0, 16384);
  lo.height = positiveInt(env, o, "height", true, 0, 16384);
  lo.bitrateKbps = positiveInt(env, o, "bitrateKbps", true, 0, 100000);
  if (!pipeline_) throw toJsError(env, DeviceError("pipeline", "layer", "pipeline is closed"));
  try {
    pipeline_->startLayer(lo);
  } catch (const DeviceError& e) {
    throw toJsError(env, e);
  }
  const std::optional<EncoderMode> m = pipeline_->layerEncoder();
  return Napi::String::New(env, encoderModeName(m.value_or(EncoderMode::Software)));
}

Napi::Value PipelineWrap::StopLayer(const Napi::CallbackInfo& info) {
  if (pipeline_) pipeline_->stopLayer();
  return info.Env().Undefined();
}

Napi::Value PipelineWrap::SetLayerBitrate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) typeError(env, "kbps must be a number");
  const double k = info[0].As<Napi::Number>().DoubleValue();
  if (!(k >= 1 && k <= 100000) || k != static_cast<double>(static_cast<uint32_t>(k))) {
    typeError(env, "kbps must be an integer from 1 to 100000");
  }
  if (pipeline_) pipeline_->setLayerBitrate(static_cast<uint32_t>(k));
  return env.Undefined();
}

Napi::Value PipelineWrap::RequestLayerKeyFrame(const Napi::CallbackInfo& info) {
  if (pipeline_) pipeline_->requestLayerKeyFrame();
  return info.Env().Undefined();
}

Napi::Value PipelineWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  PipelineStats s = pipeline_ ? pipeline_->stats() : PipelineStats{};
  o.Set("framesCaptured", Napi::Number::New(env, double(s.captured)));
  o.Set("framesEncoded", Napi::Number::New(env, double(s.encoded)));
  o.Set("framesDelivered", Napi::Number::New(env, double(s.delivered)));
  o.Set("framesDropped", Napi::Number::New(env, double(s.dropped)));
  o.Set("encodeTimeLastUs", Napi::Number::New(env, s.encodeTimeLastUs));
  o.Set("encodeTimeMeanUs", Napi::Number::New(env, s.encodeTimeMeanUs));
  o.Set("queueDepth", Napi::Number::New(env, double(s.queueDepth)));
  o.Set("layerFramesEncoded", Napi::Number::New(env, double(s.layerEncoded)));
  o.Set("framesDecimated", Napi::Number::New(env, double(s.decimated)));
  o.Set("cameraSequence", Napi::Number::New(env, double(s.cameraSequence)));
  return o;
}

Napi::Value PipelineWrap::Negotiated(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const camgw::Negotiated& n = pipeline_->negotiated();
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", n.width);
  o.Set("height", n.height);
  o.Set("fps", Napi::Number::New(env, double(n.fpsNumerator) / double(n.fpsDenominator)));
  o.Set("pixelFormat", fourccToString(n.fourcc));
  o.Set("encoder", encoderModeName(n.encoder));
  if (!n.encoderDevice.empty()) o.Set("encoderDevice", n.encoderDevice);
  o.Set("dmabuf", Napi::Boolean::New(env, pipeline_->zeroCopy()));
  return o;
}

}  // namespace camgw

namespace camgw {

// snapshot({width?, quality?, timeoutMs?}) -> Promise<{jpeg, width, height,
// sourceWidth, sourceHeight, captureTimeUs}>: the next captured frame as JPEG,
// encoded on a libuv pool thread (snapshot_job.h). Bad options are a
// TypeError thrown here; everything else rejects with code "snapshot".
Napi::Value PipelineWrap::Snapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].IsUndefined() ? Napi::Object::New(env) : Napi::Object();
  if (!info[0].IsUndefined()) {
    if (!info[0].IsObject()) typeError(env, "options must be an object");
    o = info[0].As<Napi::Object>();
  }
  JpegOptions jo;
  jo.width = o.Get("width").IsUndefined() ? 0 : positiveInt(env, o, "width", false, 0, 16384);
  jo.quality = positiveInt(env, o, "quality", false, 80, 100);
  const int timeoutMs = static_cast<int>(positiveInt(env, o, "timeoutMs", false, 1000, 60000));
  if (!pipeline_) return SnapshotJob::rejected(env, "stopped", "the pipeline is closed");
  std::shared_ptr<RawFrameTap> tap = pipeline_->rawFrameTap();
  if (!tap) {
    return SnapshotJob::rejected(
        env, "no-raw-frame",
        "the camera gives H.264 (passed through), not raw frames; a snapshot would need an "
        "H.264 decoder");
  }
  // The size is checked before waiting for a frame: a bad width fails at once.
  const camgw::Negotiated& n = pipeline_->negotiated();
  uint32_t w, h;
  try {
    jpegSize(n.width, n.height, jo.width, w, h);
  } catch (const SnapshotFailure& e) {
    return SnapshotJob::rejected(env, e.reason(), e.what());
  }
  auto* job = new SnapshotJob(env, std::move(tap), jo, timeoutMs);
  Napi::Promise p = job->promise();
  job->Queue();  // the worker deletes itself once settled
  return p;
}

}  // namespace camgw
