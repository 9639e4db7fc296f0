// An open ALSA PCM (alsa-lib), set up the way the audio pipelines need it:
// S16_LE interleaved at 48 kHz, non-blocking (the worker polls it together
// with its wake-up eventfd), timestamps on CLOCK_MONOTONIC (tstamp mode
// ENABLE, so snd_pcm_htimestamp() gives the instant hw_ptr last moved).
// Every alsa-lib failure becomes a DeviceError naming the call, the errno and
// the device ("snd_pcm_hw_params_set_rate: EINVAL (Invalid argument) on
// hw:CARD=Device,DEV=0").
#pragma once

#include <alsa/asoundlib.h>
#include <poll.h>

#include <cstdint>
#include <string>
#include <vector>

#include "device_error.h"

namespace camgw {

struct AlsaConfig {
  std::string device;  // an ALSA PCM name: hw:CARD=Device,DEV=0, plughw:..., default
  snd_pcm_stream_t stream = SND_PCM_STREAM_CAPTURE;
  unsigned channels = 1;  // wanted; the device may only offer another count
  unsigned rate = 48000;
  snd_pcm_uframes_t periodFrames = 480;   // wanted (near)
  snd_pcm_uframes_t bufferFrames = 9600;  // wanted (near)
  // Playback: start once this much is queued (0: one period).
  snd_pcm_uframes_t startThreshold = 0;
};

class AlsaPcm {
 public:
  explicit AlsaPcm(const AlsaConfig& c);  // opens and configures; throws DeviceError
  ~AlsaPcm();
  AlsaPcm(const AlsaPcm&) = delete;
  AlsaPcm& operator=(const AlsaPcm&) = delete;

  const std::string& device() const { return device_; }
  unsigned channels() const { return channels_; }
  snd_pcm_uframes_t periodFrames() const { return period_; }
  snd_pcm_uframes_t bufferFrames() const { return buffer_; }
  snd_pcm_t* handle() const { return pcm_; }

  // The PCM's poll descriptors, to poll() with the caller's own fds.
  std::vector<pollfd> pollFds() const;
  // What snd_pcm_poll_descriptors_revents() makes of the polled descriptors.
  unsigned short revents(pollfd* fds, unsigned n) const;

  // Non-blocking transfers: frames moved (0 when nothing fits) or -errno.
  snd_pcm_sframes_t read(int16_t* frames, snd_pcm_uframes_t n);
  snd_pcm_sframes_t write(const int16_t* frames, snd_pcm_uframes_t n);
  // snd_pcm_avail_update(): frames readable/writable now, or -errno (-EPIPE: xrun).
  snd_pcm_sframes_t avail();
  // CLOCK_MONOTONIC ns at which hw_ptr last moved, and the frames available then;
  // false when the device gives no timestamp.
  bool timestamp(snd_pcm_uframes_t* avail, int64_t* monoNs);
  // snd_pcm_recover() after an xrun or suspend; -errno when it cannot.
  int recover(int err);
  int start();
  // The card is gone (state DISCONNECTED, or ENODEV/ENXIO from alsa-lib).
  bool disconnected(int err) const;

  [[noreturn]] void fail(const char* call, int err) const;

 private:
  std::string device_;
  snd_pcm_t* pcm_ = nullptr;
  unsigned channels_ = 0;
  snd_pcm_uframes_t period_ = 0, buffer_ = 0;
};

}  // namespace camgw
