// Speaker playback: Opus packets from JavaScript (with their RTP timestamps)
// -> a jitter buffer -> libopus (decode, FEC, PLC) -> ALSA, on one worker
// thread that polls the PCM and a wake-up eventfd. The device is kept fed
// (silence while nothing plays), so talk starts without a device start-up,
// and the latency is the ALSA buffer plus the jitter buffer's target.
// Plain C++ with no Node-API; audio_playback_wrap.cc turns it into JS.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alsa_pcm.h"
#include "device_error.h"
#include "jitter_buffer.h"
#include "opus_codec.h"
#include "v4l2_util.h"

namespace camgw {

struct AudioPlaybackOptions {
  std::string device;
  unsigned bufferMs = 60;      // ALSA ring (10 ms periods)
  unsigned jitterMs = 40;      // playout starts with this much buffered
  unsigned maxJitterMs = 200;  // beyond this the oldest packets are dropped
};

struct AudioPlaybackStats {
  JitterStats jitter;
  uint64_t framesDecoded, framesFec, framesConcealed, framesSilent, xruns;
};

// Called on the worker thread; must not block.
struct AudioPlaybackEvents {
  std::function<void(const DeviceError&, bool fatal)> error;  // fatal: playback stopped
  std::function<void(uint64_t xruns)> xrun;                   // an underrun, recovered
  std::function<void()> unplugged;                            // playback stopped
};

class AudioPlayback {
 public:
  AudioPlayback(const AudioPlaybackOptions& o, AudioPlaybackEvents events);
  ~AudioPlayback();
  AudioPlayback(const AudioPlayback&) = delete;
  AudioPlayback& operator=(const AudioPlayback&) = delete;

  void start();
  void stop();   // joins the worker, drops what is queued; start() may follow
  void close();  // stop + close the device; idempotent
  bool running() const { return thread_.joinable(); }

  // Any thread. False when the packet is refused (not Opus, late, duplicate).
  bool push(const uint8_t* data, size_t len, bool hasTimestamp, uint32_t timestamp);

  unsigned deviceChannels() const { return pcm_ ? pcm_->channels() : 0; }
  unsigned periodFrames() const { return period_; }
  unsigned bufferFrames() const { return buffer_; }
  AudioPlaybackStats stats() const;

 private:
  void run();
  void loop();
  void produce();  // the next step from the jitter buffer into pending_
  bool onError(const char* call, snd_pcm_sframes_t err);

  AudioPlaybackOptions opts_;
  AudioPlaybackEvents events_;
  std::unique_ptr<AlsaPcm> pcm_;
  std::unique_ptr<OpusDecoderHandle> decoder_;
  JitterBuffer jitter_;
  unsigned period_ = 0, buffer_ = 0;
  UniqueFd wakeFd_;
  std::thread thread_;
  std::atomic<bool> stopRequested_{false};

  // Worker state: decoded frames waiting for room in the device.
  std::vector<int16_t> decoded_;  // decoder channels
  std::vector<int16_t> pending_;  // device channels, interleaved
  size_t pendingFrames_ = 0, pendingDone_ = 0;

  mutable std::mutex mu_;
  uint64_t decodedFrames_ = 0, fec_ = 0, concealed_ = 0, silent_ = 0, xruns_ = 0;
};

}  // namespace camgw
