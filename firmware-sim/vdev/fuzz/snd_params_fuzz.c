/* libFuzzer target "vdev-snd-params": hw_params refinement (snd_params.c),
 * which takes a struct snd_pcm_hw_params straight from the caller
 * (SNDRV_PCM_IOCTL_HW_REFINE / HW_PARAMS: alsa-lib, or any program that
 * opens /dev/snd/pcmC0D0c). The first input byte picks the ioctl, the
 * direction and the start (zeros, or the whole space as alsa-lib begins);
 * the rest is the struct, or XORed over the whole space. Properties: REFINE and
 * HW_PARAMS answer 0 or EINVAL and always end; a configuration HW_PARAMS
 * accepts is one the card offers (snd_pcm.c's USB_LIMITS: S16_LE, 48 kHz,
 * 1 channel in, 2 out, buffer <= 1 MiB) with non-empty periods and buffer,
 * since snd_pcm.c sizes its ring from them. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "../snd.h"

#define CHECK(cond)                \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

/* snd_pcm.c's USB_LIMITS (static there), channels set per direction as vsnd_pcm_init does. */
static struct vsnd_limits limits(int capture) {
  struct vsnd_limits l = {
      .access_mask =
          1u << SNDRV_PCM_ACCESS_MMAP_INTERLEAVED | 1u << SNDRV_PCM_ACCESS_RW_INTERLEAVED,
      .format_mask = 1ull << SNDRV_PCM_FORMAT_S16_LE,
      .rate_min = SND_RATE,
      .rate_max = SND_RATE,
      .period_bytes_min = 64,
      .period_bytes_max = 512 * 1024,
      .periods_min = 2,
      .periods_max = 1024,
      .buffer_bytes_max = 1024 * 1024,
      .period_time_min = 1000,
      .info = SNDRV_PCM_INFO_MMAP | SNDRV_PCM_INFO_INTERLEAVED,
  };
  l.channels_min = l.channels_max = capture ? 1 : 2;
  return l;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int choose = data[0] & 1, capture = (data[0] >> 1) & 1;
  struct snd_pcm_hw_params p;
  memset(&p, 0, sizeof p);
  if (data[0] & 4) {
    /* From the whole space, as snd_pcm_hw_params_any() starts, the input's
     * bytes XORed over it: what alsa-lib sends while it narrows. */
    for (int k = 0; k <= SNDRV_PCM_HW_PARAM_LAST_MASK; k++)
      memset(&p.masks[k], 0xff, sizeof p.masks[k]);
    for (int k = 0; k <= SNDRV_PCM_HW_PARAM_LAST_INTERVAL - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL;
         k++) {
      p.intervals[k].min = 0;
      p.intervals[k].max = UINT_MAX;
    }
    p.rmask = ~0u;
    uint8_t* raw = (uint8_t*)&p;
    for (size_t i = 1; i < size && i - 1 < sizeof p; i++) raw[i - 1] ^= data[i];
  } else {
    memcpy(&p, data + 1, size - 1 < sizeof p ? size - 1 : sizeof p);
  }
  const struct vsnd_limits l = limits(capture);
  int err = choose ? vsnd_params_choose(&l, &p) : vsnd_params_refine(&l, &p);
  CHECK(err == 0 || err == EINVAL);
  if (err || !choose) return 0;
  const unsigned channels = vsnd_params_value(&p, SNDRV_PCM_HW_PARAM_CHANNELS);
  const unsigned period = vsnd_params_value(&p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE);
  const unsigned buffer = vsnd_params_value(&p, SNDRV_PCM_HW_PARAM_BUFFER_SIZE);
  CHECK(channels == l.channels_min);
  CHECK(vsnd_params_value(&p, SNDRV_PCM_HW_PARAM_RATE) == SND_RATE);
  CHECK(vsnd_params_value(&p, SNDRV_PCM_HW_PARAM_FORMAT) == SNDRV_PCM_FORMAT_S16_LE);
  CHECK(l.access_mask >> vsnd_params_value(&p, SNDRV_PCM_HW_PARAM_ACCESS) & 1);
  CHECK(period > 0 && buffer >= period);
  CHECK((uint64_t)buffer * channels * 2 <= l.buffer_bytes_max);
  return 0;
}
