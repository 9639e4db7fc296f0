// Microphone capture: ALSA -> Opus (48 kHz, 20 ms) -> a bounded queue for
// JavaScript, on one worker thread that polls the PCM and a wake-up eventfd.
// Plain C++ with no Node-API; audio_capture_wrap.cc turns its events into JS.
//
// Each packet carries the CLOCK_REALTIME capture time of its first sample,
// taken from the device's timestamp (snd_pcm_htimestamp: the CLOCK_MONOTONIC
// instant hw_ptr last moved, and how many frames were waiting then) and
// mapped to REALTIME like video's buffer timestamps (clock_map.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alsa_pcm.h"
#include "clock_map.h"
#include "device_error.h"
#include "opus_codec.h"
#include "v4l2_util.h"

namespace camgw {

struct AudioCaptureOptions {
  std::string device;
  OpusEncoderSettings opus;  // opus.channels: 1 (mono, the default) or 2
  size_t queueDepth = 50;    // packets held for JS (1 s) before the oldest is dropped
  unsigned bufferMs = 200;   // ALSA ring: slack for a worker that is late, not latency
  unsigned stallMs = 500;    // no samples for this long is reported once as a stall
};

struct AudioPacket {
  std::vector<uint8_t> data;  // one Opus packet (RFC 6716)
  int64_t captureTimeUs;      // CLOCK_REALTIME of its first sample, µs since the epoch
  uint32_t samples;           // per channel at 48 kHz (960)
};

struct AudioCaptureStats {
  uint64_t packetsEncoded, packetsDelivered, packetsDropped, xruns, stalls;
  double encodeTimeMeanUs;
  size_t queueDepth;
};

// Called on the worker thread; must not block.
struct AudioCaptureEvents {
  std::function<void()> packetsReady;
  std::function<void(const DeviceError&, bool fatal)> error;  // fatal: capture stopped
  std::function<void(uint64_t xruns)> xrun;                   // an overrun, recovered
  std::function<void(unsigned ms)> stall;                     // no samples for ms
  std::function<void()> unplugged;                            // capture stopped
};

class AudioCapture {
 public:
  // Opens and configures the device and the encoder; throws DeviceError.
  AudioCapture(const AudioCaptureOptions& o, AudioCaptureEvents events);
  ~AudioCapture();
  AudioCapture(const AudioCapture&) = delete;
  AudioCapture& operator=(const AudioCapture&) = delete;

  void start();
  void stop();   // joins the worker; the device stays open, start() may follow
  void close();  // stop + close the device; idempotent
  bool running() const { return thread_.joinable(); }

  unsigned deviceChannels() const { return pcm_ ? pcm_->channels() : 0; }
  unsigned periodFrames() const { return period_; }
  unsigned bufferFrames() const { return buffer_; }
  int lookahead() const { return lookahead_; }

  AudioCaptureStats stats() const;
  std::deque<AudioPacket> takePackets();

 private:
  void run();
  void loop();
  // false: the worker must end (unplug or a fatal error, already reported)
  bool onError(const char* call, snd_pcm_sframes_t err);
  void encodeFrame(int64_t firstSampleMonoNs);
  void push(AudioPacket&& p);

  AudioCaptureOptions opts_;
  AudioCaptureEvents events_;
  std::unique_ptr<AlsaPcm> pcm_;
  std::unique_ptr<OpusEncoderHandle> encoder_;
  unsigned period_ = 0, buffer_ = 0;
  int lookahead_ = 0;
  ClockMap clock_;
  UniqueFd wakeFd_;
  std::thread thread_;
  std::atomic<bool> stopRequested_{false};

  // Worker state: the frame being filled, device channels interleaved.
  std::vector<int16_t> frame_;
  std::vector<int16_t> mixed_;
  unsigned have_ = 0;

  mutable std::mutex mu_;
  std::deque<AudioPacket> queue_;
  uint64_t encoded_ = 0, delivered_ = 0, dropped_ = 0, xruns_ = 0, stalls_ = 0;
  double encodeSumUs_ = 0;
};

}  // namespace camgw
