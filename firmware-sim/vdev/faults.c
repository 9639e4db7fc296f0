/* Fault injection: parsing, the live control file, seeded randomness.
 *
 * Grammar (docs/firmware-sim.md): a list of faults separated by ',' ';' or
 * newlines; each is NAME followed by ':key=value' parameters:
 *   unplug[:at=T][:for=T][:dev=camera|encoder|audio|all]
 *   drop:rate=P   eio:rate=P   corrupt:rate=P       (P in [0,1])
 *   stall:ms=N[:at=T][:dev=camera|mic|speaker|audio]   drift:ppm=X ([-10000,10000])
 *   enc-lag:ms=N   enc-stop[:at=T]   xrun[:at=T][:dev=mic|speaker|audio]
 * T is a duration: 250ms, 2s, 1.5s, or a bare number of milliseconds; "at"
 * counts from the moment the set took effect (process start for the
 * environment, the file's reading for the control file).
 *
 * Randomness is one splitmix64 stream per fault kind seeded from
 * CAMGW_SIM_SEED, so a run with the same seed drops the same frames. */
#define _GNU_SOURCE
#include "faults.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "vdev.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fault_set cur;
static int64_t cur_base; /* CLOCK_MONOTONIC ns when `cur` took effect */
static uint64_t rng[4];  /* drop, eio, corrupt, misc */
static int64_t stall_done_base = -1;
static int unplugged_by_us;
static int snd_stall_done, xrun_done; /* FAULT_SND_* bits of the current set */

static void clear(struct fault_set* s) {
  memset(s, 0, sizeof(*s));
  s->stall_at_ns = s->unplug_at_ns = s->enc_stop_at_ns = -1;
  s->unplug_for_ns = -1;
  s->snd_stall_at_ns = s->xrun_at_ns = -1;
}

static uint64_t splitmix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double uniform(int k) { return (double)(splitmix(&rng[k]) >> 11) / 9007199254740992.0; }

static int fail(char* err, size_t n, const char* item, const char* msg) {
  snprintf(err, n, "fault \"%s\": %s", item, msg);
  return -1;
}

/* duration: 250ms | 2s | 1.5s | 300 (ms) */
static int duration(const char* v, int64_t* ns) {
  char* end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || errno || !isfinite(x) || x < 0) return -1;
  double mul = 1e6;
  if (strcmp(end, "s") == 0)
    mul = 1e9;
  else if (strcmp(end, "ms") == 0 || *end == 0)
    mul = 1e6;
  else
    return -1;
  /* A duration that does not fit int64_t nanoseconds (~292 years) is refused:
   * converting it would be undefined behaviour (found by fuzzing,
   * docs/fuzzing.md). */
  if (!(x * mul < 9.2e18)) return -1;
  *ns = (int64_t)(x * mul);
  return 0;
}

static int number(const char* v, double lo, double hi, double* out) {
  char* end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(x) || x < lo || x > hi) return -1;
  *out = x;
  return 0;
}

static int parse_one(char* item, struct fault_set* s, char* err, size_t n) {
  char copy[160];
  snprintf(copy, sizeof(copy), "%s", item);
  char* save;
  char* name = strtok_r(item, ":", &save);
  if (!name) return 0;
  int64_t at = -1, forr = -1, ms = -1;
  double rate = -1, ppm = 0;
  int have_ppm = 0;
  const char* dev = NULL;
  for (char* kv; (kv = strtok_r(NULL, ":", &save));) {
    char* eq = strchr(kv, '=');
    if (!eq) return fail(err, n, copy, "parameters are key=value");
    *eq = 0;
    const char *k = kv, *v = eq + 1;
    if (strcmp(k, "at") == 0) {
      if (duration(v, &at)) return fail(err, n, copy, "at must be a duration like 500ms or 2s");
    } else if (strcmp(k, "for") == 0) {
      if (duration(v, &forr)) return fail(err, n, copy, "for must be a duration like 500ms or 2s");
    } else if (strcmp(k, "ms") == 0) {
      if (duration(v, &ms)) return fail(err, n, copy, "ms must be a number of milliseconds");
    } else if (strcmp(k, "rate") == 0) {
      if (number(v, 0, 1, &rate)) return fail(err, n, copy, "rate must be a number from 0 to 1");
    } else if (strcmp(k, "ppm") == 0) {
      if (number(v, -10000, 10000, &ppm))
        return fail(err, n, copy, "ppm must be a number from -10000 to 10000");
      have_ppm = 1;
    } else if (strcmp(k, "dev") == 0) {
      dev = v; /* checked below: what it may name depends on the fault */
    } else {
      return fail(err, n, copy, "unknown parameter");
    }
  }
  int is_rate = !strcmp(name, "drop") || !strcmp(name, "eio") || !strcmp(name, "corrupt");
  if (is_rate && rate < 0) return fail(err, n, copy, "needs rate=P (0..1)");
  if (!is_rate && rate >= 0) return fail(err, n, copy, "rate applies to drop, eio and corrupt");
  if (strcmp(name, "unplug") != 0 && forr >= 0)
    return fail(err, n, copy, "for= applies to unplug only");
  int is_unplug = !strcmp(name, "unplug"), is_stall = !strcmp(name, "stall");
  int is_xrun = !strcmp(name, "xrun");
  if (dev && !is_unplug && !is_stall && !is_xrun)
    return fail(err, n, copy, "dev= applies to unplug, stall and xrun only");
  if (!dev) dev = is_xrun ? "audio" : "camera";
  int snd_which = !strcmp(dev, "mic")       ? FAULT_SND_MIC
                  : !strcmp(dev, "speaker") ? FAULT_SND_SPEAKER
                  : !strcmp(dev, "audio")   ? FAULT_SND_MIC | FAULT_SND_SPEAKER
                                            : 0;
  if (is_unplug && strcmp(dev, "camera") && strcmp(dev, "encoder") && strcmp(dev, "audio") &&
      strcmp(dev, "all"))
    return fail(err, n, copy, "dev must be camera, encoder, audio or all");
  if (is_stall && strcmp(dev, "camera") && !snd_which)
    return fail(err, n, copy, "dev must be camera, mic, speaker or audio");
  if (is_xrun && !snd_which) return fail(err, n, copy, "dev must be mic, speaker or audio");
  if (!strcmp(name, "drop")) {
    s->drop_rate = rate;
  } else if (!strcmp(name, "eio")) {
    s->eio_rate = rate;
  } else if (!strcmp(name, "corrupt")) {
    s->corrupt_rate = rate;
  } else if (!strcmp(name, "unplug")) {
    if (ms >= 0 || have_ppm) return fail(err, n, copy, "unplug takes at=, for= and dev=");
    s->unplug_at_ns = at < 0 ? 0 : at;
    s->unplug_for_ns = forr;
    s->unplug_camera = !strcmp(dev, "camera") || !strcmp(dev, "all");
    s->unplug_encoder = !strcmp(dev, "encoder") || !strcmp(dev, "all");
    s->unplug_audio = !strcmp(dev, "audio") || !strcmp(dev, "all");
  } else if (!strcmp(name, "stall")) {
    if (ms < 0) return fail(err, n, copy, "needs ms=N");
    if (snd_which) {
      s->snd_stall_ns = ms;
      s->snd_stall_at_ns = at < 0 ? 0 : at;
      s->snd_stall_which = snd_which;
    } else {
      s->stall_ns = ms;
      s->stall_at_ns = at < 0 ? 0 : at;
    }
  } else if (!strcmp(name, "drift")) {
    if (!have_ppm) return fail(err, n, copy, "needs ppm=X");
    s->drift_ppm = ppm;
  } else if (!strcmp(name, "enc-lag")) {
    if (ms < 0) return fail(err, n, copy, "needs ms=N");
    s->enc_lag_ns = ms;
  } else if (!strcmp(name, "enc-stop")) {
    s->enc_stop_at_ns = at < 0 ? 0 : at;
  } else if (is_xrun) {
    if (ms >= 0 || have_ppm) return fail(err, n, copy, "xrun takes at= and dev=");
    s->xrun_at_ns = at < 0 ? 0 : at;
    s->xrun_which = snd_which;
  } else {
    return fail(
        err, n, copy,
        "unknown fault (unplug, drop, stall, eio, enc-lag, enc-stop, corrupt, drift, xrun)");
  }
  return 0;
}

int faults_parse(const char* spec, struct fault_set* out, char* err, size_t errlen) {
  clear(out);
  if (!spec) return 0;
  char* buf = strdup(spec);
  if (!buf) return fail(err, errlen, spec, "out of memory");
  char* save;
  int rc = 0;
  for (char* item = strtok_r(buf, ",;\n", &save); item && !rc;
       item = strtok_r(NULL, ",;\n", &save)) {
    while (*item == ' ' || *item == '\t' || *item == '\r') item++;
    char* e = item + strlen(item);
    while (e > item && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) *--e = 0;
    if (!*item || *item == '#') continue;
    rc = parse_one(item, out, err, errlen);
  }
  free(buf);
  return rc;
}

/* ---- live state ---- */

static void apply(const struct fault_set* s, int64_t base) {
  pthread_mutex_lock(&lock);
  cur = *s;
  cur_base = base;
  stall_done_base = -1;
  snd_stall_done = xrun_done = 0;
  pthread_mutex_unlock(&lock);
}

static int64_t now_mono(void) { return mono_ns(); }

static void set_devices(int camera, int encoder, int audio, int present) {
  for (int i = 0; i < g_board.ndev; i++) {
    struct vdevice* d = g_board.devs[i];
    /* the encoder's media node goes and comes with it; the card with all its nodes */
    int snd = d->kind == VDEV_SND_CTL || d->kind == VDEV_SND_PCM;
    int enc = d->kind == VDEV_ENCODER || d->kind == VDEV_MEDIA;
    if ((d->kind == VDEV_CAMERA && camera) || (enc && encoder) || (snd && audio))
      board_set_present(d, present);
  }
}

/* unplug schedule: unplugged in [at, at+for) (for < 0: from at on) */
static void tick_unplug(void) {
  pthread_mutex_lock(&lock);
  struct fault_set s = cur;
  int64_t base = cur_base;
  pthread_mutex_unlock(&lock);
  int want = 0;
  if (s.unplug_at_ns >= 0) {
    int64_t t = now_mono() - base;
    want = t >= s.unplug_at_ns && (s.unplug_for_ns < 0 || t < s.unplug_at_ns + s.unplug_for_ns);
  }
  if (want && !unplugged_by_us) {
    set_devices(s.unplug_camera, s.unplug_encoder, s.unplug_audio, 0);
    unplugged_by_us =
        1 | (s.unplug_camera ? 2 : 0) | (s.unplug_encoder ? 4 : 0) | (s.unplug_audio ? 8 : 0);
  } else if (!want && unplugged_by_us) {
    set_devices(unplugged_by_us & 2, unplugged_by_us & 4, unplugged_by_us & 8, 1);
    unplugged_by_us = 0;
  }
}

static void read_control(const char* path, struct timespec* last_mtime, off_t* last_size) {
  struct stat st;
  if (real.stat(path, &st) != 0) return;
  if (st.st_mtim.tv_sec == last_mtime->tv_sec && st.st_mtim.tv_nsec == last_mtime->tv_nsec &&
      st.st_size == *last_size)
    return;
  *last_mtime = st.st_mtim;
  *last_size = st.st_size;
  FILE* f = real.fopen(path, "r");
  if (!f) return;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  struct fault_set s;
  char err[256];
  if (faults_parse(buf, &s, err, sizeof(err)) != 0) {
    fprintf(stderr, "camgw-vdev: CAMGW_SIM_CONTROL %s: %s (faults unchanged)\n", path, err);
    return;
  }
  apply(&s, now_mono());
}

static void* ticker(void* arg) {
  const char* control = arg;
  struct timespec mt = {0, 0};
  off_t size = -1;
  for (;;) {
    if (control) read_control(control, &mt, &size);
    tick_unplug();
    struct timespec nap = {0, 20000000};
    nanosleep(&nap, NULL);
  }
  return NULL;
}

void faults_init(void) {
  int64_t base = now_mono();
  const char* seed = getenv("CAMGW_SIM_SEED");
  uint64_t sd = seed && *seed ? strtoull(seed, NULL, 10) : 1;
  for (int k = 0; k < 4; k++) rng[k] = sd * 0x100000001B3ull + (uint64_t)k;
  struct fault_set s;
  char err[256];
  if (faults_parse(getenv("CAMGW_SIM_FAULTS"), &s, err, sizeof(err)) != 0) {
    fprintf(stderr, "camgw-vdev: CAMGW_SIM_FAULTS: %s (no faults injected)\n", err);
    clear(&s);
  }
  apply(&s, base);
}

/* Once the devices exist: an unplug due now happens before the program's
 * first call (deterministic "unplugged from the start"), later ones on the
 * ticker. */
void faults_start(void) {
  tick_unplug();
  const char* control = getenv("CAMGW_SIM_CONTROL");
  if ((control && *control) || cur.unplug_at_ns >= 0) {
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* never take the process's signals */
    pthread_create(&t, &a, ticker, control && *control ? strdup(control) : NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
  }
}

static int roll(int k, double rate) {
  if (rate <= 0) return 0;
  pthread_mutex_lock(&lock);
  int hit = uniform(k) < rate;
  pthread_mutex_unlock(&lock);
  return hit;
}

int faults_drop_frame(void) { return roll(0, cur.drop_rate); }
int faults_eio(void) { return roll(1, cur.eio_rate); }
int faults_corrupt(void) { return roll(2, cur.corrupt_rate); }

uint64_t faults_rand(void) {
  pthread_mutex_lock(&lock);
  uint64_t r = splitmix(&rng[3]);
  pthread_mutex_unlock(&lock);
  return r;
}

double faults_drift_ppm(void) { return cur.drift_ppm; }

int64_t faults_take_stall_ns(int64_t now) {
  pthread_mutex_lock(&lock);
  int64_t r = 0;
  if (cur.stall_ns > 0 && stall_done_base != cur_base && now - cur_base >= cur.stall_at_ns) {
    r = cur.stall_ns;
    stall_done_base = cur_base;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

int64_t faults_enc_lag_ns(void) { return cur.enc_lag_ns; }

int faults_enc_stopped(int64_t now) {
  pthread_mutex_lock(&lock);
  int r = cur.enc_stop_at_ns >= 0 && now - cur_base >= cur.enc_stop_at_ns;
  pthread_mutex_unlock(&lock);
  return r;
}

/* A stall/xrun of the sound card happens once per fault set and stream, at
 * its time or the first moment after it that the stream runs. */
static int take_once(int64_t at, int which_set, int* done, int64_t now, int which) {
  if (at < 0 || !(which_set & which) || (*done & which) || now - cur_base < at) return 0;
  *done |= which;
  return 1;
}

int64_t faults_take_snd_stall_ns(int64_t now, int which) {
  pthread_mutex_lock(&lock);
  int64_t r = take_once(cur.snd_stall_at_ns, cur.snd_stall_which, &snd_stall_done, now, which)
                  ? cur.snd_stall_ns
                  : 0;
  pthread_mutex_unlock(&lock);
  return r;
}

int faults_take_snd_xrun(int64_t now, int which) {
  pthread_mutex_lock(&lock);
  int r = take_once(cur.xrun_at_ns, cur.xrun_which, &xrun_done, now, which);
  pthread_mutex_unlock(&lock);
  return r;
}
