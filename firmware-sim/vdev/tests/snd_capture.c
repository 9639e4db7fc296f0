/* A capture loop as an application writes one (alsa-lib, 10 ms periods,
 * timestamps on, xruns recovered, a vanished card reopened), run for a while;
 * it reports what it saw, and where the microphone's tone bursts fell in
 * CLOCK_REALTIME according to the device's own timestamps:
 *   snd_capture DEVICE SECONDS
 * {"channels":1,"period":480,"buffer":4800,"frames":N,
 *  "bursts":[{"us":T,"offset_us":D}],  T: onset; D: T minus the nearest whole second
 *  "gaps_ms":[...],                     jumps in the sample clock (stalls)
 *  "xruns":N,"enodev":N,"eio":N,"reopened":N,"unplug_ms":T,"replug_ms":T} */
#include <unistd.h>

#include "stest.h"

#define PERIOD 480
#define BUFFER 24000 /* 500 ms: a loaded test machine must not overrun it */

int main(int argc, char** argv) {
  const char* dev = argc > 1 ? argv[1] : "hw:CARD=Device,DEV=0";
  double secs = argc > 2 ? atof(argv[2]) : 3;
  int64_t t0 = now_ns(CLOCK_MONOTONIC), end = t0 + (int64_t)(secs * 1e9);
  snd_pcm_t* pcm = NULL;
  CHECK(open_pcm(&pcm, dev, SND_PCM_STREAM_CAPTURE, 1, PERIOD, BUFFER, 0));
  snd_pcm_uframes_t period, buffer;
  snd_pcm_get_params(pcm, &buffer, &period);
  int16_t buf[PERIOD];
  long frames = 0, zeros = 0;
  int xruns = 0, enodev = 0, eio = 0, reopened = 0, nbursts = 0, ngaps = 0;
  long long unplug_ms = -1, replug_ms = -1;
  int64_t prev_end = 0;
  char bursts[8192] = "", gaps[2048] = "";
  while (now_ns(CLOCK_MONOTONIC) < end) {
    if (!pcm) {
      if (open_pcm(&pcm, dev, SND_PCM_STREAM_CAPTURE, 1, PERIOD, BUFFER, 0) < 0) {
        usleep(20000);
        continue;
      }
      reopened++;
      if (replug_ms < 0) replug_ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
      prev_end = 0;
      continue;
    }
    snd_pcm_sframes_t n = snd_pcm_readi(pcm, buf, PERIOD);
    if (n == -EPIPE) {
      xruns++;
      CHECK(snd_pcm_recover(pcm, (int)n, 1));
      prev_end = 0;
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
    snd_pcm_uframes_t avail;
    snd_htimestamp_t ts;
    CHECK(snd_pcm_htimestamp(pcm, &avail, &ts));
    /* the timestamp is when hw_ptr reached its value; our chunk ends `avail` before it */
    int64_t to_real = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
    int64_t start = ts_ns(&ts) - (int64_t)(avail + (snd_pcm_uframes_t)n) * 1000000000 / RATE;
    if (prev_end && llabs(start - prev_end) > 1000000 && ngaps < 100)
      ngaps += snprintf(gaps + strlen(gaps), sizeof(gaps) - strlen(gaps), "%s%lld",
                        ngaps ? "," : "", (long long)((start - prev_end) / 1000000)) > 0;
    prev_end = start + n * 1000000000ll / RATE;
    for (long i = 0; i < n; i++) {
      if (buf[i] == 0) {
        zeros++;
        continue;
      }
      if (zeros >= PERIOD && nbursts < 100) {
        int64_t us = (start + i * 1000000000ll / RATE + to_real) / 1000;
        int64_t off = ((us % 1000000) + 1000000) % 1000000;
        if (off > 500000) off -= 1000000;
        snprintf(bursts + strlen(bursts), sizeof(bursts) - strlen(bursts),
                 "%s{\"us\":%lld,\"offset_us\":%lld}", nbursts++ ? "," : "", (long long)us,
                 (long long)off);
      }
      zeros = 0;
    }
    frames += n;
  }
  printf(
      "{\"channels\":1,\"period\":%lu,\"buffer\":%lu,\"frames\":%ld,\"bursts\":[%s],"
      "\"gaps_ms\":[%s],\"xruns\":%d,\"enodev\":%d,\"eio\":%d,\"reopened\":%d,"
      "\"unplug_ms\":%lld,\"replug_ms\":%lld}\n",
      period, buffer, frames, bursts, gaps, xruns, enodev, eio, reopened, unplug_ms, replug_ms);
  if (pcm) snd_pcm_close(pcm);
  return 0;
}
