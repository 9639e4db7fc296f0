#include "opus_codec.h"

#include "device_error.h"

namespace camgw {

namespace {

[[noreturn]] void opusFail(const std::string& device, const char* call, int err) {
  throw DeviceError(device, call, opus_strerror(err));
}

}  // namespace

OpusEncoderHandle::OpusEncoderHandle(const OpusEncoderSettings& s, const std::string& device)
    : device_(device) {
  int err = OPUS_OK;
  enc_ = opus_encoder_create(kOpusRate, s.channels, s.application, &err);
  if (err != OPUS_OK || !enc_) opusFail(device_, "opus_encoder_create", err);
  const int sets[][2] = {
      {OPUS_SET_BITRATE_REQUEST, s.bitrate},
      {OPUS_SET_COMPLEXITY_REQUEST, s.complexity},
      {OPUS_SET_INBAND_FEC_REQUEST, s.fec ? 1 : 0},
      {OPUS_SET_PACKET_LOSS_PERC_REQUEST, s.fec ? s.expectedLossPercent : 0},
  };
  for (const auto& kv : sets) {
    if ((err = opus_encoder_ctl(enc_, kv[0], kv[1])) != OPUS_OK) {
      opus_encoder_destroy(enc_);
      opusFail(device_, "opus_encoder_ctl", err);
    }
  }
  opus_int32 la = 0;
  opus_encoder_ctl(enc_, OPUS_GET_LOOKAHEAD(&la));
  lookahead_ = la;
}

OpusEncoderHandle::~OpusEncoderHandle() { opus_encoder_destroy(enc_); }

std::vector<uint8_t> OpusEncoderHandle::encode(const int16_t* pcm) {
  // 1275 bytes is the largest 20 ms packet (RFC 6716 section 3.2.1).
  std::vector<uint8_t> out(1275);
  opus_int32 n =
      opus_encode(enc_, pcm, kOpusFrame, out.data(), static_cast<opus_int32>(out.size()));
  if (n < 0) opusFail(device_, "opus_encode", n);
  out.resize(static_cast<size_t>(n));
  return out;
}

OpusDecoderHandle::OpusDecoderHandle(int channels, const std::string& device)
    : channels_(channels) {
  int err = OPUS_OK;
  dec_ = opus_decoder_create(kOpusRate, channels, &err);
  if (err != OPUS_OK || !dec_) opusFail(device, "opus_decoder_create", err);
}

OpusDecoderHandle::~OpusDecoderHandle() { opus_decoder_destroy(dec_); }

int OpusDecoderHandle::decode(const uint8_t* data, size_t len, int16_t* pcm, int frames, bool fec) {
  return opus_decode(dec_, data, static_cast<opus_int32>(data ? len : 0), pcm, frames, fec ? 1 : 0);
}

int opusPacketSamples(const uint8_t* data, size_t len) {
  if (!data || len == 0) return OPUS_INVALID_PACKET;
  return opus_packet_get_nb_samples(data, static_cast<opus_int32>(len), kOpusRate);
}

}  // namespace camgw
