// The addon's audio exports: listAudioDevices(), NativeAudioCapture and
// NativeAudioPlayback (ALSA + Opus; see docs/native.md, "Audio").
#pragma once

#include <napi.h>

namespace camgw {

void initAudio(Napi::Env env, Napi::Object exports);

}  // namespace camgw
