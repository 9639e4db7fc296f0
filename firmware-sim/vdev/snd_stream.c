/* The sound card's sample clock: one thread per running PCM stream moves
 * hw_ptr as the USB audio hardware would, in steps of at most 5 ms (a USB
 * audio driver completes its URBs every few 1 ms frames), on absolute
 * deadlines (never "now + period", so no drift builds up).
 *
 * Frame k of a run is at CLOCK_MONOTONIC base_ns + (k - base_pos) / rate: the
 * capture instant of a microphone sample, the play instant of a speaker
 * sample. When hw_ptr moves to k its timestamp is that instant (tstamp), so
 * what snd_pcm_htimestamp() reports maps every frame to its true time. A
 * stall (fault) or a pause moves the base; a late wake-up (a loaded
 * machine) delivers late but keeps the times.
 *
 * Capture writes the test signal (snd_signal.c) into the ring at hw_ptr;
 * playback reads the ring at hw_ptr, treats frames past appl_ptr as silence
 * (an underrun) and hands what played to the speaker's recording
 * (snd_wav.c). Overrun/underrun follow the core: when avail reaches
 * stop_threshold the stream stops in XRUN; a playback drain ends in SETUP
 * once hw_ptr reaches appl_ptr. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "snd.h"

#define TICK_MIN_FRAMES 48  /* 1 ms */
#define TICK_MAX_FRAMES 240 /* 5 ms */

static int64_t frames_to_ns(uint64_t frames, unsigned rate) {
  return (int64_t)(frames / rate) * 1000000000 + (int64_t)(frames % rate) * 1000000000 / rate;
}

/* CLOCK_MONOTONIC instant of frame `pos` of this run */
static int64_t frame_time(const struct vsnd_sub* s, uint64_t pos) {
  return s->base_ns + frames_to_ns(pos - s->base_pos, s->rate);
}

static void capture_tick(struct vsnd_sub* s, uint64_t from, unsigned n) {
  int64_t to_real = real_ns() - mono_ns();
  int16_t* ring = (int16_t*)s->ring;
  snd_pcm_uframes_t at = s->hw_ptr % s->buffer_size;
  for (unsigned i = 0; i < n; i++) {
    int16_t v = vsnd_mic_sample(frame_time(s, from + i) + to_real);
    for (unsigned c = 0; c < s->channels; c++) ring[at * s->channels + c] = v;
    if (++at == s->buffer_size) at = 0;
  }
}

/* Copies what plays in this tick into `out`; frames the application did not
 * supply (past appl_ptr) play as silence. */
static void playback_tick(struct vsnd_sub* s, unsigned n, int16_t* out) {
  snd_pcm_sframes_t queued = vsnd_hw_avail(s);
  unsigned valid = queued <= 0 ? 0 : (unsigned)queued < n ? (unsigned)queued : n;
  snd_pcm_uframes_t at = s->hw_ptr % s->buffer_size;
  for (unsigned i = 0; i < valid; i++) {
    memcpy(out + (size_t)i * s->channels, s->ring + at * s->frame_bytes, s->frame_bytes);
    if (++at == s->buffer_size) at = 0;
  }
  memset(out + (size_t)valid * s->channels, 0, (size_t)(n - valid) * s->frame_bytes);
}

static int wait_until(struct vsnd_sub* s, int64_t deadline) {
  struct vdevice* d = s->dev;
  struct timespec ts = {(time_t)(deadline / 1000000000), (long)(deadline % 1000000000)};
  while (!s->stop && d->present && mono_ns() < deadline)
    pthread_cond_timedwait(&d->cond, &d->lock, &ts);
  return !s->stop && d->present;
}

static void* clock_thread(void* arg) {
  struct vsnd_sub* s = arg;
  struct vdevice* d = s->dev;
  int capture = s->stream == SNDRV_PCM_STREAM_CAPTURE;
  int which = capture ? FAULT_SND_MIC : FAULT_SND_SPEAKER;
  unsigned tick = (unsigned)s->period_size;
  if (tick < TICK_MIN_FRAMES) tick = TICK_MIN_FRAMES;
  if (tick > TICK_MAX_FRAMES) tick = TICK_MAX_FRAMES;
  int16_t* played = capture ? NULL : malloc((size_t)tick * s->frame_bytes);
  struct vsnd_wav* wav = capture ? NULL : vsnd_wav_open(s->channels);

  pthread_mutex_lock(&d->lock);
  while (!s->stop && d->present && (capture || played) &&
         (s->state == SNDRV_PCM_STATE_RUNNING || s->state == SNDRV_PCM_STATE_DRAINING)) {
    uint64_t next = s->pos + tick;
    int64_t deadline = frame_time(s, next);
    int64_t stall = faults_take_snd_stall_ns(deadline, which);
    if (stall) {
      s->base_ns += stall; /* the device delivers nothing meanwhile */
      deadline += stall;
    }
    if (!wait_until(s, deadline)) break;
    if (faults_take_snd_xrun(mono_ns(), which)) {
      /* what a USB audio driver does on a failed URB: snd_pcm_stop_xrun() */
      vsnd_set_state_stopped(s, SNDRV_PCM_STATE_XRUN);
      break;
    }
    int64_t started = frame_time(s, s->pos);
    if (capture)
      capture_tick(s, s->pos, tick);
    else
      playback_tick(s, tick, played);
    s->hw_ptr = (s->hw_ptr + tick) % s->boundary;
    s->pos = next;
    s->tstamp_ns = deadline;
    snd_pcm_uframes_t avail = vsnd_avail(s);
    if (avail > s->avail_max) s->avail_max = avail;
    if (!capture && s->state == SNDRV_PCM_STATE_DRAINING && vsnd_hw_avail(s) <= 0)
      vsnd_set_state_stopped(s, SNDRV_PCM_STATE_SETUP); /* drained */
    else if (avail >= s->stop_threshold)
      vsnd_set_state_stopped(s, SNDRV_PCM_STATE_XRUN);
    vdev_update_levels(d);
    pthread_cond_broadcast(&d->cond);
    if (wav) {
      pthread_mutex_unlock(&d->lock);
      vsnd_wav_write(wav, started, played, tick);
      pthread_mutex_lock(&d->lock);
    }
  }
  /* waiters must see an xrun at once, not at their timeout */
  vdev_update_levels(d);
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->lock);
  free(played);
  return NULL;
}

int vsnd_stream_start(struct vsnd_sub* s) {
  vsnd_stream_stop(s); /* join a clock that ended by itself (xrun, drained) */
  s->stop = 0;
  pthread_attr_t a;
  pthread_attr_init(&a);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* never take the process's signals */
  int err = pthread_create(&s->thread, &a, clock_thread, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&a);
  if (err) return ENOMEM;
  s->thread_on = 1;
  return 0;
}

void vsnd_stream_stop(struct vsnd_sub* s) {
  if (!s->thread_on) return;
  s->stop = 1;
  pthread_cond_broadcast(&s->dev->cond);
  pthread_mutex_unlock(&s->dev->lock);
  pthread_join(s->thread, NULL);
  pthread_mutex_lock(&s->dev->lock);
  s->thread_on = 0;
  s->stop = 0;
}
