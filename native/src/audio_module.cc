#include "audio_module.h"

#include "alsa_devices.h"
#include "audio_capture_wrap.h"
#include "audio_playback_wrap.h"

namespace camgw {

namespace {

Napi::Value capsToJs(Napi::Env env, const AudioStreamCaps& c) {
  if (!c.present) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", Napi::Boolean::New(env, c.available));
  o.Set("channelsMin", c.channelsMin);
  o.Set("channelsMax", c.channelsMax);
  o.Set("rateMin", c.rateMin);
  o.Set("rateMax", c.rateMax);
  return o;
}

Napi::Value ListAudioDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<AudioPcmInfo> devs = listAlsaDevices();
  Napi::Array out = Napi::Array::New(env, devs.size());
  for (size_t i = 0; i < devs.size(); i++) {
    const AudioPcmInfo& d = devs[i];
    const std::string suffix = "CARD=" + d.cardId + ",DEV=" + std::to_string(d.device);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", "hw:" + suffix);
    o.Set("plugName", "plughw:" + suffix);
    o.Set("card", d.card);
    o.Set("cardId", d.cardId);
    o.Set("cardName", d.cardName);
    o.Set("longName", d.longName);
    o.Set("driver", d.driver);
    o.Set("device", d.device);
    o.Set("pcmName", d.pcmName);
    o.Set("capture", capsToJs(env, d.capture));
    o.Set("playback", capsToJs(env, d.playback));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

}  // namespace

void initAudio(Napi::Env env, Napi::Object exports) {
  exports.Set("listAudioDevices", Napi::Function::New(env, ListAudioDevices));
  exports.Set("NativeAudioCapture", AudioCaptureWrap::Init(env));
  exports.Set("NativeAudioPlayback", AudioPlaybackWrap::Init(env));
}

}  // namespace camgw
