/* Shared helpers of the virtual board's sound test programs. They are plain
 * alsa-lib clients, as an application would be written, and run the same on
 * a real board with a USB sound card. Results go to stdout as one JSON
 * object (the vitest side asserts on it). */
#ifndef CAMGW_STEST_H
#define CAMGW_STEST_H

#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000

#define CHECK(call)                                                                      \
  do {                                                                                   \
    int err_ = (call);                                                                   \
    if (err_ < 0) {                                                                      \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, snd_strerror(err_)); \
      exit(1);                                                                           \
    }                                                                                    \
  } while (0)

static inline int64_t now_ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline int64_t ts_ns(const snd_htimestamp_t* t) {
  return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* "EPIPE" for -EPIPE etc.; the name the tests compare */
static inline const char* err_name(int err) {
  switch (err < 0 ? -err : err) {
    case 0:
      return "OK";
    case EPIPE:
      return "EPIPE";
    case EBADFD:
      return "EBADFD";
    case EBUSY:
      return "EBUSY";
    case EAGAIN:
      return "EAGAIN";
    case EINVAL:
      return "EINVAL";
    case ENODEV:
      return "ENODEV";
    case ENOENT:
      return "ENOENT";
    case ENXIO:
      return "ENXIO";
    case EIO:
      return "EIO";
    case ENOSYS:
      return "ENOSYS";
    case ENOTTY:
      return "ENOTTY";
    case ESTRPIPE:
      return "ESTRPIPE";
    default:
      return "OTHER";
  }
}

/* Opens `dev` for S16_LE at 48 kHz with the given period and buffer (frames),
 * timestamps on (CLOCK_MONOTONIC), as a low-latency client does. Returns the
 * negative error of the first failing call. */
static inline int open_pcm(snd_pcm_t** pcm, const char* dev, snd_pcm_stream_t stream,
                           unsigned channels, snd_pcm_uframes_t period, snd_pcm_uframes_t buffer,
                           int mode) {
  int err = snd_pcm_open(pcm, dev, stream, mode);
  if (err < 0) return err;
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  snd_pcm_sw_params_t* sw;
  snd_pcm_sw_params_alloca(&sw);
  unsigned rate = RATE;
  if ((err = snd_pcm_hw_params_any(*pcm, hw)) < 0 ||
      (err = snd_pcm_hw_params_set_access(*pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
      (err = snd_pcm_hw_params_set_format(*pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
      (err = snd_pcm_hw_params_set_channels(*pcm, hw, channels)) < 0 ||
      (err = snd_pcm_hw_params_set_rate_near(*pcm, hw, &rate, 0)) < 0 ||
      (err = snd_pcm_hw_params_set_period_size_near(*pcm, hw, &period, 0)) < 0 ||
      (err = snd_pcm_hw_params_set_buffer_size_near(*pcm, hw, &buffer)) < 0 ||
      (err = snd_pcm_hw_params(*pcm, hw)) < 0 || (err = snd_pcm_sw_params_current(*pcm, sw)) < 0 ||
      (err = snd_pcm_sw_params_set_tstamp_mode(*pcm, sw, SND_PCM_TSTAMP_ENABLE)) < 0 ||
      (err = snd_pcm_sw_params_set_tstamp_type(*pcm, sw, SND_PCM_TSTAMP_TYPE_MONOTONIC)) < 0 ||
      (err = snd_pcm_sw_params(*pcm, sw)) < 0) {
    snd_pcm_close(*pcm);
    *pcm = NULL;
    return err;
  }
  return 0;
}

#endif
