/* A playback loop as an application writes one (alsa-lib, 10 ms periods,
 * 200 ms buffer, underruns recovered, a vanished card reopened), playing a
 * stereo sine for a while:
 *   snd_play DEVICE SECONDS FREQ
 * {"frames":N,"xruns":N,"enodev":N,"eio":N,"reopened":N,"unplug_ms":T,"replug_ms":T} */
#include <math.h>
#include <unistd.h>

#include "stest.h"

#define PERIOD 480
#define BUFFER 9600 /* 200 ms: a loaded test machine must not underrun it */

/* Start only with half the buffer queued, as players do (aplay starts full):
 * a stream restarted after an xrun with one period in it underruns again as
 * soon as the writer is descheduled for 10 ms. */
static int open_play(snd_pcm_t** pcm, const char* dev) {
  int err = open_pcm(pcm, dev, SND_PCM_STREAM_PLAYBACK, 2, PERIOD, BUFFER, 0);
  if (err < 0) return err;
  snd_pcm_sw_params_t* sw;
  snd_pcm_sw_params_alloca(&sw);
  if ((err = snd_pcm_sw_params_current(*pcm, sw)) < 0 ||
      (err = snd_pcm_sw_params_set_start_threshold(*pcm, sw, BUFFER / 2)) < 0 ||
      (err = snd_pcm_sw_params(*pcm, sw)) < 0) {
    snd_pcm_close(*pcm);
    *pcm = NULL;
  }
  return err;
}

int main(int argc, char** argv) {
  const char* dev = argc > 1 ? argv[1] : "hw:CARD=Device,DEV=0";
  double secs = argc > 2 ? atof(argv[2]) : 2;
  double freq = argc > 3 ? atof(argv[3]) : 440;
  int64_t t0 = now_ns(CLOCK_MONOTONIC), end = t0 + (int64_t)(secs * 1e9);
  snd_pcm_t* pcm = NULL;
  CHECK(open_play(&pcm, dev));
  int16_t buf[PERIOD * 2];
  long frames = 0;
  int xruns = 0, enodev = 0, eio = 0, reopened = 0;
  long long unplug_ms = -1, replug_ms = -1;
  while (now_ns(CLOCK_MONOTONIC) < end) {
    if (!pcm) {
      if (open_play(&pcm, dev) < 0) {
        usleep(20000);
        continue;
      }
      reopened++;
      if (replug_ms < 0) replug_ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
    }
    for (int i = 0; i < PERIOD; i++) {
      int16_t v = (int16_t)lrint(12000 * sin(2 * M_PI * freq * (double)(frames + i) / RATE));
      buf[2 * i] = buf[2 * i + 1] = v;
    }
    snd_pcm_sframes_t n = snd_pcm_writei(pcm, buf, PERIOD);
    if (n == -EPIPE) {
      xruns++;
      CHECK(snd_pcm_recover(pcm, (int)n, 1));
      continue;
    }
    if (n == -EIO) {
      eio++;
      CHECK(snd_pcm_prepare(pcm));
      continue;
    }
    if (n == -ENODEV) {
      enodev++;
      if (unplug_ms < 0) unplug_ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
      snd_pcm_close(pcm);
      pcm = NULL;
      continue;
    }
    CHECK((int)n);
    frames += n;
  }
  if (pcm) {
    snd_pcm_drain(pcm);
    snd_pcm_close(pcm);
  }
  printf(
      "{\"frames\":%ld,\"xruns\":%d,\"enodev\":%d,\"eio\":%d,\"reopened\":%d,\"unplug_ms\":%lld,"
      "\"replug_ms\":%lld}\n",
      frames, xruns, enodev, eio, reopened, unplug_ms, replug_ms);
  return 0;
}
