// Reading the audio classes' option objects: TypeError naming the option for
// anything of the wrong type or out of range, before any device is touched.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

namespace camgw {

[[noreturn]] void audioTypeError(Napi::Env env, const std::string& msg);
Napi::Object optionsObject(Napi::Env env, const Napi::Value& v);
std::string requiredString(Napi::Env env, const Napi::Object& o, const char* key);
int optInt(Napi::Env env, const Napi::Object& o, const char* key, int fallback, int min, int max);
bool optBool(Napi::Env env, const Napi::Object& o, const char* key, bool fallback);
// One of `choices`; returns its index.
size_t optChoice(Napi::Env env, const Napi::Object& o, const char* key,
                 const std::vector<std::string>& choices, size_t fallback);

}  // namespace camgw
