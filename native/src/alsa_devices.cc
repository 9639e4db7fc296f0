#include "alsa_devices.h"

#include <alsa/asoundlib.h>

namespace camgw {

namespace {

// Opens the stream without waiting (a busy device is reported, not waited
// for) and reads the ranges its hw_params allow.
AudioStreamCaps probe(const std::string& name, snd_pcm_stream_t stream) {
  AudioStreamCaps c;
  c.present = true;
  snd_pcm_t* pcm = nullptr;
  if (snd_pcm_open(&pcm, name.c_str(), stream, SND_PCM_NONBLOCK) < 0) return c;
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  if (snd_pcm_hw_params_any(pcm, hw) >= 0) {
    c.available = true;
    snd_pcm_hw_params_get_channels_min(hw, &c.channelsMin);
    snd_pcm_hw_params_get_channels_max(hw, &c.channelsMax);
    snd_pcm_hw_params_get_rate_min(hw, &c.rateMin, nullptr);
    snd_pcm_hw_params_get_rate_max(hw, &c.rateMax, nullptr);
  }
  snd_pcm_close(pcm);
  return c;
}

bool hasStream(snd_ctl_t* ctl, int device, snd_pcm_stream_t stream) {
  snd_pcm_info_t* info;
  snd_pcm_info_alloca(&info);
  snd_pcm_info_set_device(info, static_cast<unsigned>(device));
  snd_pcm_info_set_subdevice(info, 0);
  snd_pcm_info_set_stream(info, stream);
  return snd_ctl_pcm_info(ctl, info) >= 0;
}

}  // namespace

std::vector<AudioPcmInfo> listAlsaDevices() {
  std::vector<AudioPcmInfo> out;
  int card = -1;
  while (snd_card_next(&card) >= 0 && card >= 0) {
    snd_ctl_t* ctl = nullptr;
    std::string hw = "hw:" + std::to_string(card);
    if (snd_ctl_open(&ctl, hw.c_str(), 0) < 0) continue;
    snd_ctl_card_info_t* ci;
    snd_ctl_card_info_alloca(&ci);
    if (snd_ctl_card_info(ctl, ci) < 0) {
      snd_ctl_close(ctl);
      continue;
    }
    int device = -1;
    while (snd_ctl_pcm_next_device(ctl, &device) >= 0 && device >= 0) {
      AudioPcmInfo p;
      p.card = card;
      p.cardId = snd_ctl_card_info_get_id(ci);
      p.cardName = snd_ctl_card_info_get_name(ci);
      p.longName = snd_ctl_card_info_get_longname(ci);
      p.driver = snd_ctl_card_info_get_driver(ci);
      p.device = device;
      snd_pcm_info_t* info;
      snd_pcm_info_alloca(&info);
      snd_pcm_info_set_device(info, static_cast<unsigned>(device));
      for (snd_pcm_stream_t st : {SND_PCM_STREAM_CAPTURE, SND_PCM_STREAM_PLAYBACK}) {
        snd_pcm_info_set_stream(info, st);
        if (p.pcmName.empty() && snd_ctl_pcm_info(ctl, info) >= 0)
          p.pcmName = snd_pcm_info_get_name(info);
      }
      // The stable name survives card renumbering (another USB device plugged first).
      std::string name = "hw:CARD=" + p.cardId + ",DEV=" + std::to_string(device);
      if (hasStream(ctl, device, SND_PCM_STREAM_CAPTURE))
        p.capture = probe(name, SND_PCM_STREAM_CAPTURE);
      if (hasStream(ctl, device, SND_PCM_STREAM_PLAYBACK))
        p.playback = probe(name, SND_PCM_STREAM_PLAYBACK);
      out.push_back(std::move(p));
    }
    snd_ctl_close(ctl);
  }
  return out;
}

}  // namespace camgw
