#include "alsa_pcm.h"

#include <cerrno>

namespace camgw {

namespace {

// alsa-lib returns -errno; its own codes (SND_ERROR_*) are above 500000.
int errnoOf(int err) { return err < 0 ? -err : err; }

}  // namespace

void AlsaPcm::fail(const char* call, int err) const {
  if (errnoOf(err) >= SND_ERROR_BEGIN) throw DeviceError(device_, call, snd_strerror(err));
  throw DeviceError(device_, call, errnoOf(err));
}

AlsaPcm::AlsaPcm(const AlsaConfig& c) : device_(c.device) {
  int err = snd_pcm_open(&pcm_, c.device.c_str(), c.stream, SND_PCM_NONBLOCK);
  if (err < 0) {
    pcm_ = nullptr;
    fail("snd_pcm_open", err);
  }
  try {
    snd_pcm_hw_params_t* hw;
    snd_pcm_hw_params_alloca(&hw);
    if ((err = snd_pcm_hw_params_any(pcm_, hw)) < 0) fail("snd_pcm_hw_params_any", err);
    if ((err = snd_pcm_hw_params_set_access(pcm_, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0)
      fail("snd_pcm_hw_params_set_access", err);
    if ((err = snd_pcm_hw_params_set_format(pcm_, hw, SND_PCM_FORMAT_S16_LE)) < 0)
      fail("snd_pcm_hw_params_set_format", err);
    channels_ = c.channels;
    if ((err = snd_pcm_hw_params_set_channels_near(pcm_, hw, &channels_)) < 0)
      fail("snd_pcm_hw_params_set_channels_near", err);
    if ((err = snd_pcm_hw_params_set_rate(pcm_, hw, c.rate, 0)) < 0) {
      // Opus and WebRTC run at 48 kHz; a hw: device without it needs plughw:.
      throw DeviceError(device_, "snd_pcm_hw_params_set_rate",
                        "no " + std::to_string(c.rate) + " Hz (" + snd_strerror(err) +
                            "); use a plughw: device to convert");
    }
    period_ = c.periodFrames;
    if ((err = snd_pcm_hw_params_set_period_size_near(pcm_, hw, &period_, nullptr)) < 0)
      fail("snd_pcm_hw_params_set_period_size_near", err);
    buffer_ = c.bufferFrames;
    if ((err = snd_pcm_hw_params_set_buffer_size_near(pcm_, hw, &buffer_)) < 0)
      fail("snd_pcm_hw_params_set_buffer_size_near", err);
    if ((err = snd_pcm_hw_params(pcm_, hw)) < 0) fail("snd_pcm_hw_params", err);
    snd_pcm_get_params(pcm_, &buffer_, &period_);

    snd_pcm_sw_params_t* sw;
    snd_pcm_sw_params_alloca(&sw);
    if ((err = snd_pcm_sw_params_current(pcm_, sw)) < 0) fail("snd_pcm_sw_params_current", err);
    if ((err = snd_pcm_sw_params_set_tstamp_mode(pcm_, sw, SND_PCM_TSTAMP_ENABLE)) < 0)
      fail("snd_pcm_sw_params_set_tstamp_mode", err);
    if ((err = snd_pcm_sw_params_set_tstamp_type(pcm_, sw, SND_PCM_TSTAMP_TYPE_MONOTONIC)) < 0)
      fail("snd_pcm_sw_params_set_tstamp_type", err);
    if ((err = snd_pcm_sw_params_set_avail_min(pcm_, sw, period_)) < 0)
      fail("snd_pcm_sw_params_set_avail_min", err);
    if (c.stream == SND_PCM_STREAM_PLAYBACK) {
      snd_pcm_uframes_t start = c.startThreshold ? c.startThreshold : period_;
      if ((err = snd_pcm_sw_params_set_start_threshold(pcm_, sw, start)) < 0)
        fail("snd_pcm_sw_params_set_start_threshold", err);
    }
    if ((err = snd_pcm_sw_params(pcm_, sw)) < 0) fail("snd_pcm_sw_params", err);
    if ((err = snd_pcm_prepare(pcm_)) < 0) fail("snd_pcm_prepare", err);
  } catch (...) {
    snd_pcm_close(pcm_);
    pcm_ = nullptr;
    throw;
  }
}

AlsaPcm::~AlsaPcm() {
  if (pcm_) snd_pcm_close(pcm_);  // drops what is queued: close() must not wait
}

std::vector<pollfd> AlsaPcm::pollFds() const {
  int n = snd_pcm_poll_descriptors_count(pcm_);
  if (n <= 0) fail("snd_pcm_poll_descriptors_count", n < 0 ? n : -EINVAL);
  std::vector<pollfd> fds(static_cast<size_t>(n));
  int err = snd_pcm_poll_descriptors(pcm_, fds.data(), static_cast<unsigned>(n));
  if (err < 0) fail("snd_pcm_poll_descriptors", err);
  return fds;
}

unsigned short AlsaPcm::revents(pollfd* fds, unsigned n) const {
  unsigned short r = 0;
  if (snd_pcm_poll_descriptors_revents(pcm_, fds, n, &r) < 0) return POLLERR;
  return r;
}

snd_pcm_sframes_t AlsaPcm::read(int16_t* frames, snd_pcm_uframes_t n) {
  snd_pcm_sframes_t r = snd_pcm_readi(pcm_, frames, n);
  return r == -EAGAIN ? 0 : r;
}

snd_pcm_sframes_t AlsaPcm::write(const int16_t* frames, snd_pcm_uframes_t n) {
  snd_pcm_sframes_t r = snd_pcm_writei(pcm_, frames, n);
  return r == -EAGAIN ? 0 : r;
}

snd_pcm_sframes_t AlsaPcm::avail() { return snd_pcm_avail_update(pcm_); }

bool AlsaPcm::timestamp(snd_pcm_uframes_t* avail, int64_t* monoNs) {
  snd_htimestamp_t ts{};
  if (snd_pcm_htimestamp(pcm_, avail, &ts) < 0 || (ts.tv_sec == 0 && ts.tv_nsec == 0)) return false;
  *monoNs = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  return true;
}

int AlsaPcm::recover(int err) { return snd_pcm_recover(pcm_, err, 1); }

int AlsaPcm::start() { return snd_pcm_start(pcm_); }

bool AlsaPcm::disconnected(int err) const {
  if (err == -ENODEV || err == -ENXIO) return true;
  // alsa-lib maps a failing status query (snd_disconnect_ioctl) to DISCONNECTED.
  return snd_pcm_state(pcm_) == SND_PCM_STATE_DISCONNECTED;
}

}  // namespace camgw
