#include "audio_options.h"

#include <cmath>

namespace camgw {

void audioTypeError(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

Napi::Object optionsObject(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) audioTypeError(env, "options must be an object");
  return v.As<Napi::Object>();
}

std::string requiredString(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) audioTypeError(env, std::string("options.") + key + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty()) audioTypeError(env, std::string("options.") + key + " must not be empty");
  return s;
}

int optInt(Napi::Env env, const Napi::Object& o, const char* key, int fallback, int min, int max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= min && d <= max) || d != std::floor(d)) {
    audioTypeError(env, std::string("options.") + key + " must be an integer from " +
                            std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int>(d);
}

bool optBool(Napi::Env env, const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) audioTypeError(env, std::string("options.") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

size_t optChoice(Napi::Env env, const Napi::Object& o, const char* key,
                 const std::vector<std::string>& choices, size_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
  for (size_t i = 0; i < choices.size(); i++)
    if (s == choices[i]) return i;
  std::string list;
  for (size_t i = 0; i < choices.size(); i++)
    list += (i ? (i + 1 == choices.size() ? " or " : ", ") : "") + choices[i];
  audioTypeError(env, std::string("options.") + key + " must be " + list);
}

}  // namespace camgw
