#include "audio_capture_wrap.h"

#include "audio_options.h"
#include "js_errors.h"

namespace camgw {

namespace {

AudioCaptureOptions parseOptions(Napi::Env env, const Napi::Value& arg) {
  Napi::Object o = optionsObject(env, arg);
  AudioCaptureOptions c;
  c.device = requiredString(env, o, "device");
  c.opus.channels = optInt(env, o, "channels", 1, 1, 2);
  // RFC 6716 section 2.1.1: 6 to 510 kbit/s.
  c.opus.bitrate = optInt(env, o, "bitrate", 32000, 6000, 510000);
  static const int apps[] = {OPUS_APPLICATION_VOIP, OPUS_APPLICATION_AUDIO,
                             OPUS_APPLICATION_RESTRICTED_LOWDELAY};
  c.opus.application = apps[optChoice(env, o, "application", {"voip", "audio", "lowdelay"}, 0)];
  c.opus.complexity = optInt(env, o, "complexity", 5, 0, 10);
  c.opus.fec = optBool(env, o, "fec", true);
  c.queueDepth = static_cast<size_t>(optInt(env, o, "queueDepth", 50, 1, 1000));
  c.bufferMs = static_cast<unsigned>(optInt(env, o, "bufferMs", 200, 40, 2000));
  c.stallMs = static_cast<unsigned>(optInt(env, o, "stallMs", 500, 50, 60000));
  return c;
}

}  // namespace

Napi::Function AudioCaptureWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeAudioCapture",
                     {InstanceMethod<&AudioCaptureWrap::Start>("start"),
                      InstanceMethod<&AudioCaptureWrap::Stop>("stop"),
                      InstanceMethod<&AudioCaptureWrap::Close>("close"),
                      InstanceMethod<&AudioCaptureWrap::Stats>("stats"),
                      InstanceMethod<&AudioCaptureWrap::Negotiated>("negotiated")});
}

AudioCaptureWrap::AudioCaptureWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AudioCaptureWrap>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  AudioCaptureOptions opts = parseOptions(env, info[0]);
  if (!info[1].IsFunction()) audioTypeError(env, "onEvent must be a function");
  onEvent_ = Napi::Persistent(info[1].As<Napi::Function>());
  channels_ = opts.opus.channels;
  AudioCaptureEvents ev;
  ev.packetsReady = [this] {
    if (!pending_.exchange(true))
      events_.post([this](Napi::Env e, Napi::Function cb) { deliver(e, cb); });
  };
  ev.error = [this](const DeviceError& err, bool fatal) { events_.postError(err, fatal); };
  ev.xrun = [this](uint64_t n) { events_.postXrun(n); };
  ev.stall = [this](unsigned ms) {
    events_.post([ms](Napi::Env e, Napi::Function cb) {
      cb.Call({Napi::String::New(e, "stall"), Napi::Number::New(e, ms)});
    });
  };
  ev.unplugged = [this] { events_.postUnplugged(); };
  try {
    capture_ = std::make_unique<AudioCapture>(opts, std::move(ev));
  } catch (const DeviceError& e) {
    throw toJsError(env, e);
  }
  napi_add_env_cleanup_hook(env, &AudioCaptureWrap::envCleanup, this);
}

AudioCaptureWrap::~AudioCaptureWrap() {
  stopWorker();
  if (capture_) capture_->close();
  if (!envGone_) napi_remove_env_cleanup_hook(env_, &AudioCaptureWrap::envCleanup, this);
}

void AudioCaptureWrap::envCleanup(void* arg) {
  // Process exit: join the worker and release the device (the function is
  // torn down by Node itself at this point).
  auto* self = static_cast<AudioCaptureWrap*>(arg);
  self->envGone_ = true;
  if (self->capture_) self->capture_->close();
}

void AudioCaptureWrap::deliver(Napi::Env env, Napi::Function cb) {
  pending_ = false;
  if (!capture_) return;
  for (AudioPacket& p : capture_->takePackets()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", Napi::Buffer<uint8_t>::Copy(env, p.data.data(), p.data.size()));
    o.Set("captureTimeUs", Napi::Number::New(env, static_cast<double>(p.captureTimeUs)));
    o.Set("samples", Napi::Number::New(env, p.samples));
    cb.Call({Napi::String::New(env, "packet"), o});
  }
}

void AudioCaptureWrap::stopWorker() {
  if (capture_) capture_->stop();
  events_.close();  // the worker is joined: nothing calls it any more
}

Napi::Value AudioCaptureWrap::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!capture_ || capture_->running()) return env.Undefined();
  events_.open(env, onEvent_.Value(), "camgw-audio-capture", this);
  capture_->start();
  return env.Undefined();
}

Napi::Value AudioCaptureWrap::Stop(const Napi::CallbackInfo& info) {
  stopWorker();
  return info.Env().Undefined();
}

Napi::Value AudioCaptureWrap::Close(const Napi::CallbackInfo& info) {
  stopWorker();
  if (capture_) capture_->close();
  return info.Env().Undefined();
}

Napi::Value AudioCaptureWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AudioCaptureStats s = capture_ ? capture_->stats() : AudioCaptureStats{};
  Napi::Object o = Napi::Object::New(env);
  o.Set("packetsEncoded", Napi::Number::New(env, static_cast<double>(s.packetsEncoded)));
  o.Set("packetsDelivered", Napi::Number::New(env, static_cast<double>(s.packetsDelivered)));
  o.Set("packetsDropped", Napi::Number::New(env, static_cast<double>(s.packetsDropped)));
  o.Set("xruns", Napi::Number::New(env, static_cast<double>(s.xruns)));
  o.Set("stalls", Napi::Number::New(env, static_cast<double>(s.stalls)));
  o.Set("encodeTimeMeanUs", Napi::Number::New(env, s.encodeTimeMeanUs));
  o.Set("queueDepth", Napi::Number::New(env, static_cast<double>(s.queueDepth)));
  return o;
}

Napi::Value AudioCaptureWrap::Negotiated(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("rate", kOpusRate);
  o.Set("channels", channels_);
  o.Set("frameSamples", kOpusFrame);
  o.Set("deviceChannels", capture_ ? capture_->deviceChannels() : 0);
  o.Set("periodFrames", capture_ ? capture_->periodFrames() : 0);
  o.Set("bufferFrames", capture_ ? capture_->bufferFrames() : 0);
  o.Set("lookahead", capture_ ? capture_->lookahead() : 0);
  return o;
}

}  // namespace camgw
