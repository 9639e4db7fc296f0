// The ALSA PCM devices of the system's sound cards (alsa-lib's card and
// control interface: snd_card_next, snd_ctl_card_info, snd_ctl_pcm_info),
// with what each stream offers when it can be opened for a moment.
#pragma once

#include <string>
#include <vector>

namespace camgw {

struct AudioStreamCaps {
  bool present = false;    // the device has this stream
  bool available = false;  // it could be opened to read its ranges (false: busy)
  unsigned channelsMin = 0, channelsMax = 0, rateMin = 0, rateMax = 0;
};

struct AudioPcmInfo {
  int card = 0;
  std::string cardId, cardName, longName, driver;
  int device = 0;
  std::string pcmName;
  AudioStreamCaps capture, playback;
};

std::vector<AudioPcmInfo> listAlsaDevices();

}  // namespace camgw
