/* What the sound card answers where alsa-lib (or the kernel under it) has a
 * defined answer: busy devices, formats and rates it does not have, states
 * in which a call is refused, overrun/underrun, mmap access, drain, pause,
 * poll. One JSON object of results:
 *   snd_api [DEVICE] */
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stest.h"

/* The kernel ABI (<sound/asound.h>, which cannot be included beside alsa-lib's
 * headers): what alsa-lib's hw plugin sends. */
struct xferi {
  long result;
  void* buf;
  unsigned long frames;
};
#define IOCTL_START _IO('A', 0x42)
#define IOCTL_DROP _IO('A', 0x43)
#define IOCTL_RESUME _IO('A', 0x47)
#define IOCTL_READI_FRAMES _IOR('A', 0x51, struct xferi)
#define MMAP_OFFSET_STATUS 0x80000000

static snd_pcm_t* open_cap(const char* dev, snd_pcm_uframes_t buffer, int mode) {
  snd_pcm_t* pcm;
  CHECK(open_pcm(&pcm, dev, SND_PCM_STREAM_CAPTURE, 1, 480, buffer, mode));
  return pcm;
}

static snd_pcm_t* open_play(const char* dev, snd_pcm_uframes_t buffer) {
  snd_pcm_t* pcm;
  CHECK(open_pcm(&pcm, dev, SND_PCM_STREAM_PLAYBACK, 2, 480, buffer, 0));
  return pcm;
}

static int pcm_fd(snd_pcm_t* pcm) {
  struct pollfd p;
  CHECK(snd_pcm_poll_descriptors(pcm, &p, 1));
  return p.fd;
}

static const char* raw(int fd, unsigned long req, void* arg) {
  return err_name(ioctl(fd, req, arg) < 0 ? errno : 0);
}

#define SAY(fmt, ...) printf("%s" fmt, first ? (first = 0, "") : ",", __VA_ARGS__)

int main(int argc, char** argv) {
  const char* dev = argc > 1 ? argv[1] : "hw:CARD=Device,DEV=0";
  int first = 1;
  printf("{");
  int16_t buf[48000 * 2];
  memset(buf, 0, sizeof(buf));

  /* one opener per substream: the second gets EBUSY when it will not wait */
  snd_pcm_t *a, *b;
  CHECK(snd_pcm_open(&a, dev, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK));
  SAY("\"second_open\":\"%s\"",
      err_name(snd_pcm_open(&b, dev, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK)));
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  CHECK(snd_pcm_hw_params_any(a, hw));
  unsigned cmin, cmax, rmin, rmax;
  snd_pcm_hw_params_get_channels_min(hw, &cmin);
  snd_pcm_hw_params_get_channels_max(hw, &cmax);
  snd_pcm_hw_params_get_rate_min(hw, &rmin, NULL);
  snd_pcm_hw_params_get_rate_max(hw, &rmax, NULL);
  SAY("\"capture_channels\":[%u,%u],\"capture_rates\":[%u,%u]", cmin, cmax, rmin, rmax);
  SAY("\"s24\":\"%s\"", err_name(snd_pcm_hw_params_test_format(a, hw, SND_PCM_FORMAT_S24_LE)));
  SAY("\"rate_44100\":\"%s\"", err_name(snd_pcm_hw_params_test_rate(a, hw, 44100, 0)));
  SAY("\"mmap_access\":\"%s\"",
      err_name(snd_pcm_hw_params_test_access(a, hw, SND_PCM_ACCESS_MMAP_INTERLEAVED)));
  unsigned rate = 44100;
  snd_pcm_uframes_t period = 1000, buffer = 3333;
  CHECK(snd_pcm_hw_params_set_rate_near(a, hw, &rate, 0));
  CHECK(snd_pcm_hw_params_set_period_size_near(a, hw, &period, 0));
  CHECK(snd_pcm_hw_params_set_buffer_size_near(a, hw, &buffer));
  SAY("\"near\":{\"rate\":%u,\"period\":%lu,\"buffer\":%lu}", rate, period, buffer);
  snd_pcm_close(a);

  snd_pcm_t* p;
  CHECK(snd_pcm_open(&p, dev, SND_PCM_STREAM_PLAYBACK, 0));
  CHECK(snd_pcm_hw_params_any(p, hw));
  snd_pcm_hw_params_get_channels_min(hw, &cmin);
  snd_pcm_hw_params_get_channels_max(hw, &cmax);
  SAY("\"playback_channels\":[%u,%u]", cmin, cmax);
  snd_pcm_close(p);

  /* non-blocking read before data: EAGAIN */
  /* A 1 s buffer: the status below must read RUNNING, not the XRUN a 100 ms
   * buffer rightly reached once when the machine stalled this process. */
  a = open_cap(dev, 48000, SND_PCM_NONBLOCK);
  /* A read that came 5 ms or more after the start may rightly find frames in:
   * the card moves hw_ptr in steps of at most 5 ms, as a USB audio driver
   * does (snd_stream.c), and on a loaded machine this process can be
   * descheduled that long (1 run in 12 at load 6 read frames). Such a late
   * read says nothing, so the start and read are tried again, a few times at
   * most. */
  snd_pcm_sframes_t first_read = 0;
  for (int attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) {
      CHECK(snd_pcm_drop(a));
      CHECK(snd_pcm_prepare(a));
    }
    int64_t started = now_ns(CLOCK_MONOTONIC);
    CHECK(snd_pcm_start(a));
    first_read = snd_pcm_readi(a, buf, 480);
    if (first_read < 0 || now_ns(CLOCK_MONOTONIC) - started < 5000000) break;
  }
  SAY("\"nonblock_read\":\"%s\"", err_name((int)first_read));
  /* poll wakes with POLLIN once a period is in */
  struct pollfd pfd;
  CHECK(snd_pcm_poll_descriptors(a, &pfd, 1));
  int n = poll(&pfd, 1, 2000);
  unsigned short rev = 0;
  CHECK(snd_pcm_poll_descriptors_revents(a, &pfd, 1, &rev));
  SAY("\"poll\":%d,\"poll_in\":%d", n, (rev & POLLIN) != 0);
  snd_pcm_status_t* st;
  snd_pcm_status_alloca(&st);
  CHECK(snd_pcm_status(a, st));
  snd_htimestamp_t ts;
  snd_pcm_status_get_htstamp(st, &ts);
  SAY("\"status_state\":\"%s\",\"status_avail\":%lu,\"status_tstamp\":%d",
      snd_pcm_state_name(snd_pcm_status_get_state(st)), snd_pcm_status_get_avail(st),
      ts.tv_sec > 0);
  /* the kernel interface below alsa-lib */
  int fd = pcm_fd(a);
  void* status_page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, MMAP_OFFSET_STATUS);
  SAY("\"mmap_status\":\"%s\"", err_name(status_page == MAP_FAILED ? errno : 0));
  SAY("\"unknown_ioctl\":\"%s\"", raw(fd, _IOR('A', 0x7f, int), &n));
  SAY("\"raw_drop\":\"%s\"", raw(fd, IOCTL_DROP, NULL));
  struct xferi x = {.buf = buf, .frames = 480};
  SAY("\"readi_in_setup\":\"%s\"", raw(fd, IOCTL_READI_FRAMES, &x));
  SAY("\"start_in_setup\":\"%s\"", raw(fd, IOCTL_START, NULL));
  SAY("\"resume\":\"%s\"", raw(fd, IOCTL_RESUME, NULL));
  snd_pcm_close(a);

  /* overrun: nobody reads for longer than the buffer. A 200 ms buffer, so
   * that a loaded machine's stall (tens of ms) before the pause below does
   * not overrun it first (a 50 ms one did, 1 run in 16 at load 7). */
  a = open_cap(dev, 9600, 0);
  CHECK(snd_pcm_start(a));
  usleep(400000);
  int r = (int)snd_pcm_readi(a, buf, 480);
  SAY("\"overrun\":\"%s\",\"overrun_state\":\"%s\"", err_name(r),
      snd_pcm_state_name(snd_pcm_state(a)));
  SAY("\"overrun_recover\":\"%s\"", err_name(snd_pcm_recover(a, r, 1)));
  SAY("\"read_after_recover\":%ld", (long)snd_pcm_readi(a, buf, 480));
  /* pause longer than the buffer: no overrun */
  CHECK(snd_pcm_pause(a, 1));
  SAY("\"paused_state\":\"%s\"", snd_pcm_state_name(snd_pcm_state(a)));
  usleep(400000);
  CHECK(snd_pcm_pause(a, 0));
  SAY("\"read_after_pause\":%ld", (long)snd_pcm_readi(a, buf, 480));
  snd_pcm_close(a);

  /* underrun: the application stops writing */
  p = open_play(dev, 1920);
  SAY("\"start_empty\":\"%s\"", raw(pcm_fd(p), IOCTL_START, NULL));
  CHECK((int)snd_pcm_writei(p, buf, 480));
  usleep(100000);
  r = (int)snd_pcm_writei(p, buf, 480);
  SAY("\"underrun\":\"%s\"", err_name(r));
  SAY("\"underrun_recover\":\"%s\"", err_name(snd_pcm_recover(p, r, 1)));
  /* drain plays out what is queued, then the stream is SETUP */
  CHECK((int)snd_pcm_writei(p, buf, 1920));
  int64_t t = now_ns(CLOCK_MONOTONIC);
  r = snd_pcm_drain(p);
  t = now_ns(CLOCK_MONOTONIC) - t;
  SAY("\"drain\":\"%s\",\"drain_ms\":%lld,\"after_drain\":\"%s\"", err_name(r),
      (long long)(t / 1000000), snd_pcm_state_name(snd_pcm_state(p)));
  snd_pcm_sframes_t delay = -1;
  CHECK(snd_pcm_prepare(p));
  CHECK((int)snd_pcm_writei(p, buf, 960));
  CHECK(snd_pcm_delay(p, &delay));
  SAY("\"delay_after_960\":%ld", (long)delay);
  snd_pcm_close(p);

  /* MMAP access: alsa-lib reads the mapped ring and commits through SYNC_PTR */
  CHECK(snd_pcm_open(&a, dev, SND_PCM_STREAM_CAPTURE, 0));
  CHECK(snd_pcm_set_params(a, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_MMAP_INTERLEAVED, 1, RATE, 0,
                           100000));
  long got = 0, nonzero = 0;
  while (got < RATE * 11 / 10) {
    snd_pcm_sframes_t k = snd_pcm_mmap_readi(a, buf, 960);
    if (k < 0) CHECK(snd_pcm_recover(a, (int)k, 0));
    for (long i = 0; i < k; i++) nonzero += buf[i] != 0;
    if (k > 0) got += k;
  }
  SAY("\"mmap_frames\":%ld,\"mmap_burst_samples\":%ld", got, nonzero);
  snd_pcm_close(a);
  printf("}\n");
  return 0;
}
