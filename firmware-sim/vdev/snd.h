/* The virtual board's sound card: a USB audio device ("USB-Audio" driver,
 * card id "Device") with one PCM device, a mono microphone (capture) and a
 * stereo speaker (playback), as a C-Media CM108 class adapter on a Pi.
 *
 * It is emulated at the kernel interface alsa-lib's hw plugin uses: the
 * nodes /dev/snd/controlC0, /dev/snd/pcmC0D0c and /dev/snd/pcmC0D0p answer
 * the control and PCM ioctls of <sound/asound.h> (protocol 2.0.15, Linux 6.1),
 * so hw:CARD=Device,DEV=0, plughw:... and "arecord -l" work through the real,
 * unmodified alsa-lib. One `snd_sub` per PCM node stands for the kernel's
 * substream + runtime; it lives under its node's vdevice lock. */
#ifndef CAMGW_SND_H
#define CAMGW_SND_H

#include <sound/asound.h>
#include <stdint.h>
#include <time.h>

#include "vdev.h"

#define SND_MAJOR 116 /* CONFIG_SND_MAJOR */
#define SND_RATE 48000u

/* What the hardware offers one direction (the driver's snd_pcm_hardware plus
 * its constraints), the input of hw_params refinement (snd_params.c). */
struct vsnd_limits {
  uint32_t access_mask; /* bit per SNDRV_PCM_ACCESS_* */
  uint64_t format_mask; /* bit per SNDRV_PCM_FORMAT_* */
  unsigned channels_min, channels_max;
  unsigned rate_min, rate_max;
  unsigned period_bytes_min, period_bytes_max;
  unsigned periods_min, periods_max;
  unsigned buffer_bytes_max;
  unsigned period_time_min; /* microseconds */
  unsigned info;            /* SNDRV_PCM_INFO_* */
};

/* snd_params.c: SNDRV_PCM_IOCTL_HW_REFINE and the choice HW_PARAMS makes. */
int vsnd_params_refine(const struct vsnd_limits* lim, struct snd_pcm_hw_params* p);
int vsnd_params_choose(const struct vsnd_limits* lim, struct snd_pcm_hw_params* p);
unsigned vsnd_params_value(const struct snd_pcm_hw_params* p, int param);

struct vsnd_wav;

/* A PCM substream with its runtime (the kernel's snd_pcm_substream +
 * snd_pcm_runtime). Pointers count frames modulo `boundary` as the kernel's
 * do; `pos` counts the frames the device clock has moved since START. */
struct vsnd_sub {
  struct vdevice* dev;
  int stream; /* SNDRV_PCM_STREAM_PLAYBACK or _CAPTURE */
  struct vsnd_limits limits;
  struct vfile* owner; /* one open per substream, like a USB card's */
  int user_pversion;
  int tstamp_type; /* SNDRV_PCM_TSTAMP_TYPE_* */
  snd_pcm_state_t state;
  /* hw_params */
  unsigned access, channels, rate, frame_bytes;
  snd_pcm_uframes_t period_size, buffer_size, boundary;
  unsigned info;
  /* sw_params */
  int tstamp_mode;
  snd_pcm_uframes_t avail_min, start_threshold, stop_threshold;
  snd_pcm_uframes_t silence_threshold, silence_size;
  /* pointers and time */
  snd_pcm_uframes_t hw_ptr, appl_ptr, avail_max;
  int64_t tstamp_ns;  /* CLOCK_MONOTONIC when hw_ptr last moved */
  int64_t trigger_ns; /* CLOCK_MONOTONIC of the last start/stop/pause */
  /* the ring buffer ("DMA" memory): a memfd the application may mmap */
  int memfd;
  uint8_t* ring;
  size_t ring_bytes;
  /* the device clock (snd_stream.c) */
  pthread_t thread;
  int thread_on, stop;
  uint64_t pos;         /* frames moved since START */
  uint64_t base_pos;    /* the sample clock: frame base_pos is at base_ns */
  int64_t base_ns;      /* CLOCK_MONOTONIC */
  struct vsnd_wav* wav; /* playback: the speaker's recording, or NULL */
};

/* snd_pcm.c: the PCM nodes' file operations. */
void vsnd_pcm_init(struct vsnd_sub* s, struct vdevice* d, int stream);
int vsnd_pcm_open(struct vfile* f, int flags); /* dev lock held; may wait */
void vsnd_pcm_release(struct vfile* f);
int vsnd_pcm_ioctl(struct vfile* f, unsigned long req, void* arg);
unsigned vsnd_pcm_poll_mask(struct vfile* f);
void* vsnd_pcm_mmap(struct vfile* f, void* addr, size_t len, int prot, int flags, off_t off);
void vsnd_pcm_unplug(struct vdevice* d);
void vsnd_pcm_reap(struct vdevice* d);
snd_pcm_uframes_t vsnd_avail(const struct vsnd_sub* s);
snd_pcm_sframes_t vsnd_hw_avail(const struct vsnd_sub* s);
void vsnd_set_state_stopped(struct vsnd_sub* s, snd_pcm_state_t state);

/* snd_stream.c: the device clock moving hw_ptr on absolute deadlines. */
int vsnd_stream_start(struct vsnd_sub* s); /* dev lock held */
void vsnd_stream_stop(struct vsnd_sub* s); /* dev lock held; joins the thread */

/* snd_card.c: the card, its control node and what /proc/asound shows. */
int vsnd_card_create(void); /* adds the card's nodes to g_board */
int vsnd_ctl_ioctl(struct vfile* f, unsigned long req, void* arg);
int vsnd_proc_content(const char* path, char* out, size_t n);      /* -1: not ours */
void vsnd_pcm_info_of(struct vdevice* d, struct snd_pcm_info* in); /* dev lock held */

/* snd_signal.c: the microphone's test signal (docs/firmware-sim.md). */
int16_t vsnd_mic_sample(int64_t realtime_ns);

/* snd_wav.c: the speaker's recording (CAMGW_SIM_SPEAKER_FILE). */
struct vsnd_wav* vsnd_wav_open(unsigned channels); /* NULL when not recording */
void vsnd_wav_write(struct vsnd_wav* w, int64_t start_realtime_ns, const int16_t* frames,
                    size_t nframes);

#endif
