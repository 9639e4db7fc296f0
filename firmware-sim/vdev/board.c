/* The board: which virtual devices exist, from CAMGW_SIM_PROFILE.
 *
 *   pi4      camera /dev/video0 + bcm2835-codec-like H.264 encoder /dev/video11
 *            (the Pi 4 numbers its codec nodes video10/11/12; encode is 11)
 *   pi5      camera only: the Pi 5 has no H.264 encoder block
 *   uvc-h264 camera that also offers H.264 (a UVC webcam that encodes itself)
 *
 * Every profile also has a USB sound card (snd_card.c) unless
 * CAMGW_SIM_AUDIO=none.
 *
 * Set-up is lazy (first use of a virtual path or fd), so processes that never
 * touch video devices (Node, shells) pay nothing beyond the env lookup. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "real.h"
#include "snd.h"
#include "vdev.h"

struct board g_board;
static pthread_once_t board_once = PTHREAD_ONCE_INIT;

struct vdevice* board_new_device(enum vdev_kind kind, int num) {
  /* the media node's major is dynamic on a real system; 240 is a free one */
  struct vdevice* d = calloc(1, sizeof(*d));
  if (!d) return NULL;
  d->kind = kind;
  d->num = num;
  d->major = kind == VDEV_MEDIA ? 240 : 81;
  d->minor = num;
  d->present = 1;
  snprintf(d->path, sizeof(d->path), kind == VDEV_MEDIA ? "/dev/media%d" : "/dev/video%d", num);
  pthread_mutex_init(&d->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&d->cond, &ca);
  pthread_condattr_destroy(&ca);
  return d;
}

static void do_init(void) {
  real_init();
  const char* p = getenv("CAMGW_SIM_PROFILE");
  if (!p || !*p) p = "pi4";
  int camera = 1, encoder = 0;
  if (strcmp(p, "pi4") == 0) {
    encoder = 1;
  } else if (strcmp(p, "pi5") == 0) {
  } else if (strcmp(p, "uvc-h264") == 0) {
    g_board.uvc_h264 = 1;
  } else {
    fprintf(stderr, "camgw-vdev: unknown CAMGW_SIM_PROFILE '%s' (pi4|pi5|uvc-h264): no devices\n",
            p);
    camera = 0;
  }
  g_board.profile = p;
  const char* audio = getenv("CAMGW_SIM_AUDIO");
  g_board.audio = camera && (!audio || !*audio || strcmp(audio, "usb") == 0);
  if (audio && *audio && strcmp(audio, "usb") != 0 && strcmp(audio, "none") != 0)
    fprintf(stderr, "camgw-vdev: unknown CAMGW_SIM_AUDIO '%s' (usb|none): no sound card\n", audio);
  faults_init();
  if (camera) {
    struct vdevice* d = board_new_device(VDEV_CAMERA, 0);
    if (d && camera_create(d, g_board.uvc_h264) == 0) g_board.devs[g_board.ndev++] = d;
  }
  if (encoder) {
    struct vdevice* d = board_new_device(VDEV_ENCODER, 11);
    if (d) g_board.devs[g_board.ndev++] = d;
    /* bcm2835-codec registers a media controller for its m2m nodes */
    d = board_new_device(VDEV_MEDIA, 0);
    if (d) g_board.devs[g_board.ndev++] = d;
  }
  if (g_board.audio && vsnd_card_create() != 0) g_board.audio = 0;
  faults_start();
}

void board_init(void) { pthread_once(&board_once, do_init); }

struct vdevice* board_find_path(const char* path) {
  /* Cheap reject first: this runs for every open() in the process. */
  if (!path || strncmp(path, "/dev/", 5) != 0 ||
      (strncmp(path + 5, "video", 5) != 0 && strncmp(path + 5, "media", 5) != 0 &&
       strncmp(path + 5, "snd/", 4) != 0))
    return NULL;
  board_init();
  for (int i = 0; i < g_board.ndev; i++)
    if (strcmp(g_board.devs[i]->path, path) == 0) return g_board.devs[i];
  return NULL;
}

/* Unplug: like video_unregister_device(), existing files go stale for good
 * (generation bump) and every waiter wakes; replug makes the node reappear
 * for new opens. */
void camera_reap(struct vdevice* d);

void board_set_present(struct vdevice* d, int present) {
  pthread_mutex_lock(&d->lock);
  int same = d->present == present;
  pthread_mutex_unlock(&d->lock);
  if (same) return;
  /* replug: what the unplugged device's stale owner held is torn down first */
  if (present && d->kind == VDEV_CAMERA) camera_reap(d);
  if (present && d->kind == VDEV_SND_PCM) vsnd_pcm_reap(d);
  pthread_mutex_lock(&d->lock);
  d->present = present;
  if (!present) {
    d->generation++;
    if (d->kind == VDEV_CAMERA) camera_unplug(d);
    if (d->kind == VDEV_SND_PCM) vsnd_pcm_unplug(d);
    for (struct vfile* f = d->files; f; f = f->next)
      if (f->enc) encoder_unplug(f);
  }
  pthread_cond_broadcast(&d->cond);
  vdev_update_levels(d);
  pthread_mutex_unlock(&d->lock);
}
