// libopus (RFC 6716) encoder and decoder owners, at 48 kHz with 20 ms frames
// (960 samples), the frame size WebRTC uses for Opus (RFC 7587).
#pragma once

#include <opus.h>

#include <cstdint>
#include <string>
#include <vector>

namespace camgw {

constexpr int kOpusRate = 48000;
constexpr int kOpusFrame = 960;  // 20 ms

struct OpusEncoderSettings {
  int channels = 1;
  int application = OPUS_APPLICATION_VOIP;
  int bitrate = 32000;  // bit/s
  int complexity = 5;
  bool fec = true;              // in-band FEC (RFC 6716 section 2.1.7) for lossy links
  int expectedLossPercent = 5;  // what FEC is sized for
};

class OpusEncoderHandle {
 public:
  // `device` names what the errors are about (the capture device).
  OpusEncoderHandle(const OpusEncoderSettings& s, const std::string& device);
  ~OpusEncoderHandle();
  OpusEncoderHandle(const OpusEncoderHandle&) = delete;
  OpusEncoderHandle& operator=(const OpusEncoderHandle&) = delete;

  // One 20 ms frame of interleaved S16 samples -> one packet.
  std::vector<uint8_t> encode(const int16_t* pcm);
  // Samples the encoder delays its output by (OPUS_GET_LOOKAHEAD: the Ogg pre-skip).
  int lookahead() const { return lookahead_; }

 private:
  OpusEncoder* enc_ = nullptr;
  std::string device_;
  int lookahead_ = 0;
};

class OpusDecoderHandle {
 public:
  OpusDecoderHandle(int channels, const std::string& device);
  ~OpusDecoderHandle();
  OpusDecoderHandle(const OpusDecoderHandle&) = delete;
  OpusDecoderHandle& operator=(const OpusDecoderHandle&) = delete;

  // Decodes a packet into `pcm` (room for kOpusFrame * 6 frames): samples per
  // channel, or a negative OPUS_* error. fec: recover the frame *before* this
  // packet from its in-band FEC data. data == nullptr: packet loss
  // concealment for `frames` samples.
  int decode(const uint8_t* data, size_t len, int16_t* pcm, int frames, bool fec);
  int channels() const { return channels_; }

 private:
  OpusDecoder* dec_ = nullptr;
  int channels_;
};

// Samples (per channel, at 48 kHz) in a packet, or a negative OPUS_* error
// for one that is not valid Opus (RFC 6716 section 3).
int opusPacketSamples(const uint8_t* data, size_t len);

}  // namespace camgw
