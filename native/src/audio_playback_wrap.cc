#include "audio_playback_wrap.h"

#include <cmath>

#include "audio_options.h"
#include "js_errors.h"

namespace camgw {

namespace {

AudioPlaybackOptions parseOptions(Napi::Env env, const Napi::Value& arg) {
  Napi::Object o = optionsObject(env, arg);
  AudioPlaybackOptions p;
  p.device = requiredString(env, o, "device");
  p.bufferMs = static_cast<unsigned>(optInt(env, o, "bufferMs", 60, 20, 1000));
  p.jitterMs = static_cast<unsigned>(optInt(env, o, "jitterMs", 40, 0, 1000));
  p.maxJitterMs = static_cast<unsigned>(optInt(env, o, "maxJitterMs", 200, 20, 5000));
  if (p.maxJitterMs < p.jitterMs) audioTypeError(env, "options.maxJitterMs must be >= jitterMs");
  return p;
}

}  // namespace

Napi::Function AudioPlaybackWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeAudioPlayback",
                     {InstanceMethod<&AudioPlaybackWrap::Start>("start"),
                      InstanceMethod<&AudioPlaybackWrap::Stop>("stop"),
                      InstanceMethod<&AudioPlaybackWrap::Close>("close"),
                      InstanceMethod<&AudioPlaybackWrap::Push>("push"),
                      InstanceMethod<&AudioPlaybackWrap::Stats>("stats"),
                      InstanceMethod<&AudioPlaybackWrap::Negotiated>("negotiated")});
}

AudioPlaybackWrap::AudioPlaybackWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AudioPlaybackWrap>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  AudioPlaybackOptions opts = parseOptions(env, info[0]);
  if (!info[1].IsFunction()) audioTypeError(env, "onEvent must be a function");
  onEvent_ = Napi::Persistent(info[1].As<Napi::Function>());
  AudioPlaybackEvents ev;
  ev.error = [this](const DeviceError& err, bool fatal) { events_.postError(err, fatal); };
  ev.xrun = [this](uint64_t n) { events_.postXrun(n); };
  ev.unplugged = [this] { events_.postUnplugged(); };
  try {
    playback_ = std::make_unique<AudioPlayback>(opts, std::move(ev));
  } catch (const DeviceError& e) {
    throw toJsError(env, e);
  }
  napi_add_env_cleanup_hook(env, &AudioPlaybackWrap::envCleanup, this);
}

AudioPlaybackWrap::~AudioPlaybackWrap() {
  stopWorker();
  if (playback_) playback_->close();
  if (!envGone_) napi_remove_env_cleanup_hook(env_, &AudioPlaybackWrap::envCleanup, this);
}

void AudioPlaybackWrap::envCleanup(void* arg) {
  auto* self = static_cast<AudioPlaybackWrap*>(arg);
  self->envGone_ = true;
  if (self->playback_) self->playback_->close();
}

void AudioPlaybackWrap::stopWorker() {
  if (playback_) playback_->stop();
  events_.close();
}

Napi::Value AudioPlaybackWrap::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!playback_ || playback_->running()) return env.Undefined();
  events_.open(env, onEvent_.Value(), "camgw-audio-playback", this);
  playback_->start();
  return env.Undefined();
}

Napi::Value AudioPlaybackWrap::Stop(const Napi::CallbackInfo& info) {
  stopWorker();
  return info.Env().Undefined();
}

Napi::Value AudioPlaybackWrap::Close(const Napi::CallbackInfo& info) {
  stopWorker();
  if (playback_) playback_->close();
  return info.Env().Undefined();
}

Napi::Value AudioPlaybackWrap::Push(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    audioTypeError(env, "packet must be a Buffer or Uint8Array");
  Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
  bool hasTs = !info[1].IsUndefined();
  uint32_t ts = 0;
  if (hasTs) {
    double d = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : NAN;
    if (!(d >= 0 && d <= 4294967295.0) || d != std::floor(d))
      audioTypeError(env, "timestamp must be an RTP timestamp, an integer from 0 to 2^32-1");
    ts = static_cast<uint32_t>(d);
  }
  bool ok = playback_ && playback_->push(a.Data(), a.ByteLength(), hasTs, ts);
  return Napi::Boolean::New(env, ok);
}

Napi::Value AudioPlaybackWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AudioPlaybackStats s = playback_ ? playback_->stats() : AudioPlaybackStats{};
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  num("packetsReceived", static_cast<double>(s.jitter.received));
  num("packetsLate", static_cast<double>(s.jitter.late));
  num("packetsDropped", static_cast<double>(s.jitter.dropped));
  num("packetsInvalid", static_cast<double>(s.jitter.invalid));
  num("framesDecoded", static_cast<double>(s.framesDecoded));
  num("framesFec", static_cast<double>(s.framesFec));
  num("framesConcealed", static_cast<double>(s.framesConcealed));
  num("framesSilent", static_cast<double>(s.framesSilent));
  num("underflows", static_cast<double>(s.jitter.underflows));
  num("xruns", static_cast<double>(s.xruns));
  num("bufferedMs", s.jitter.bufferedSamples / 48.0);
  return o;
}

Napi::Value AudioPlaybackWrap::Negotiated(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("rate", kOpusRate);
  o.Set("deviceChannels", playback_ ? playback_->deviceChannels() : 0);
  o.Set("periodFrames", playback_ ? playback_->periodFrames() : 0);
  o.Set("bufferFrames", playback_ ? playback_->bufferFrames() : 0);
  return o;
}

}  // namespace camgw
