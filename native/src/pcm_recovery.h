// How an audio worker's failed ALSA call ends, shared by capture and
// playback (alsa-lib's xrun recovery, snd_pcm_recover(3)): the card went
// away (unplugged); an overrun/underrun or a suspend was recovered (counted
// and reported as an xrun; the worker goes on); anything else is fatal.
#pragma once

#include <cerrno>
#include <cstdint>
#include <mutex>

#include "alsa_pcm.h"
#include "device_error.h"

namespace camgw {

// Returns true when the worker may go on. `restart`: start the stream again
// after recovering (capture; a playback stream starts on its next write).
// `xruns` is counted under `mu`, which guards the worker's stats.
template <class Events>
bool recoverPcm(AlsaPcm& pcm, const Events& events, const char* call, long err, bool restart,
                std::mutex& mu, uint64_t& xruns) {
  const int e = static_cast<int>(err);
  if (pcm.disconnected(e)) {
    if (events.unplugged) events.unplugged();
    return false;
  }
  if (e != -EPIPE && e != -ESTRPIPE) {
    if (events.error) events.error(DeviceError(pcm.device(), call, -e), true);
    return false;
  }
  int r = pcm.recover(e);
  if (r == 0 && restart) r = pcm.start();
  // snd_pcm_start() answers -EBADFD when the stream is not PREPARED: a
  // resumed suspend may have left it running already.
  if (r < 0 && !(restart && r == -EBADFD)) {
    if (pcm.disconnected(r)) {
      if (events.unplugged) events.unplugged();
    } else if (events.error) {
      events.error(DeviceError(pcm.device(), "snd_pcm_recover", -r), true);
    }
    return false;
  }
  uint64_t n;
  {
    std::lock_guard<std::mutex> lock(mu);
    n = ++xruns;
  }
  if (events.xrun) events.xrun(n);
  return true;
}

}  // namespace camgw
