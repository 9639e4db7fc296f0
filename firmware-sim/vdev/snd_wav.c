/* The virtual speaker's recording: what the playback stream plays goes to a
 * WAV file named by CAMGW_SIM_SPEAKER_FILE (nothing is recorded without it).
 *
 * The file is one per process, created when the speaker first plays, and is
 * a real-time timeline: its first sample was played at the CLOCK_REALTIME
 * instant written in its LIST/INFO/ICMT chunk ("camgw-sim speaker
 * start_realtime_us=N"), sample n at that instant + n / 48000 s (timed on
 * CLOCK_MONOTONIC). Time the speaker played nothing the application gave it
 * (an underrun, a stall, a pause, between two streams) is silence in the
 * file. The RIFF and data sizes are rewritten after every write, so the file
 * is valid at any moment, even if the process is killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "real.h"
#include "snd.h"

/* Gaps shorter than this are clock rounding, not silence (a tick is >= 1 ms). */
#define MIN_GAP_FRAMES 24

struct vsnd_wav {
  pthread_mutex_t lock;
  const char* path;
  int fd;
  int failed;
  unsigned channels;
  uint64_t frames;
  int64_t start_mono_ns;
  off_t data_size_at; /* offset of the data chunk's size field */
};

static struct vsnd_wav g_wav = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) { g_wav.path = getenv("CAMGW_SIM_SPEAKER_FILE"); }

struct vsnd_wav* vsnd_wav_open(unsigned channels) {
  pthread_once(&once, init);
  if (!g_wav.path || !*g_wav.path) return NULL;
  pthread_mutex_lock(&g_wav.lock);
  if (!g_wav.channels) g_wav.channels = channels;
  pthread_mutex_unlock(&g_wav.lock);
  return &g_wav;
}

static void put32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t* p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static int create(struct vsnd_wav* w, int64_t start_mono_ns) {
  w->fd = real.open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd < 0) {
    fprintf(stderr, "camgw-vdev: CAMGW_SIM_SPEAKER_FILE %s: cannot create (speaker not recorded)\n",
            w->path);
    return -1;
  }
  char note[96];
  int64_t start_real_us = (start_mono_ns + (real_ns() - mono_ns())) / 1000;
  int nl = snprintf(note, sizeof(note), "camgw-sim speaker start_realtime_us=%lld",
                    (long long)start_real_us) +
           1;                 /* with its NUL */
  if (nl & 1) note[nl++] = 0; /* chunks are word aligned */
  uint8_t h[160];
  size_t n = 0;
  memcpy(h, "RIFF\0\0\0\0WAVEfmt ", 16);
  n = 16;
  put32(h + n, 16);
  put16(h + n + 4, 1); /* PCM */
  put16(h + n + 6, (uint16_t)w->channels);
  put32(h + n + 8, SND_RATE);
  put32(h + n + 12, SND_RATE * 2 * w->channels);
  put16(h + n + 16, (uint16_t)(2 * w->channels));
  put16(h + n + 18, 16);
  n += 20;
  memcpy(h + n, "LIST", 4);
  put32(h + n + 4, (uint32_t)(4 + 8 + nl));
  memcpy(h + n + 8, "INFOICMT", 8);
  put32(h + n + 16, (uint32_t)nl);
  memcpy(h + n + 20, note, (size_t)nl);
  n += 20 + (size_t)nl;
  memcpy(h + n, "data\0\0\0\0", 8);
  n += 8;
  w->data_size_at = (off_t)n - 4;
  if (write(w->fd, h, n) != (ssize_t)n) return -1;
  w->start_mono_ns = start_mono_ns;
  return 0;
}

static void update_sizes(struct vsnd_wav* w) {
  uint8_t b[4];
  uint64_t data = w->frames * 2 * w->channels;
  put32(b, (uint32_t)(w->data_size_at + 4 + data - 8));
  if (pwrite(w->fd, b, 4, 4) != 4) w->failed = 1;
  put32(b, (uint32_t)data);
  if (pwrite(w->fd, b, 4, w->data_size_at) != 4) w->failed = 1;
}

static void put_frames(struct vsnd_wav* w, const int16_t* frames, size_t n) {
  size_t bytes = n * 2 * w->channels;
  if (frames) {
    if (write(w->fd, frames, bytes) != (ssize_t)bytes) w->failed = 1;
  } else {
    static const int16_t zeros[4096];
    while (bytes && !w->failed) {
      size_t k = bytes < sizeof(zeros) ? bytes : sizeof(zeros);
      if (write(w->fd, zeros, k) != (ssize_t)k) w->failed = 1;
      bytes -= k;
    }
  }
  w->frames += n;
}

/* `frames` (interleaved, w->channels each) started playing at `start_mono_ns`. */
void vsnd_wav_write(struct vsnd_wav* w, int64_t start_mono_ns, const int16_t* frames,
                    size_t nframes) {
  pthread_mutex_lock(&w->lock);
  if (!w->failed && w->fd < 0 && create(w, start_mono_ns) != 0) w->failed = 1;
  if (!w->failed) {
    int64_t since = start_mono_ns - w->start_mono_ns;
    uint64_t due = since > 0 ? (uint64_t)(since / 1000000000) * SND_RATE +
                                   (uint64_t)(since % 1000000000) * SND_RATE / 1000000000
                             : 0;
    if (due > w->frames + MIN_GAP_FRAMES) put_frames(w, NULL, due - w->frames);
    put_frames(w, frames, nframes);
    update_sizes(w);
  }
  pthread_mutex_unlock(&w->lock);
}
