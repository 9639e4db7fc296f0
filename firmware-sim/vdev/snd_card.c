/* The virtual USB sound card: card 0, id "Device", driver "USB-Audio", as
 * snd-usb-audio names a CM108-class adapter ("USB Audio Device"). Its control
 * node /dev/snd/controlC0 answers what alsa-lib's card enumeration
 * (snd_card_next, snd_card_get_index for CARD=Device), snd_ctl_hw_open,
 * the hw PCM open (PCM_PREFER_SUBDEVICE, PCM_INFO) and device listing
 * (aplay -l, snd_device_name_hint) ask. The card has no mixer controls (an
 * empty element list). /proc/asound/{cards,pcm,version,card0/id} show it as
 * the kernel's proc files do.
 *
 * Node numbers follow the static minor scheme (CONFIG_SND_DYNAMIC_MINORS
 * off): control 116:0, PCM playback 116:16, capture 116:24. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snd.h"

#define CARD_ID "Device"
#define CARD_DRIVER "USB-Audio"
#define CARD_NAME "USB Audio Device"
#define CARD_LONGNAME "camgw virtual USB Audio Device at usb-0000:01:00.0-1.2, full speed"
#define CARD_MIXER "USB Mixer"
#define CARD_COMPONENTS "USB0d8c:0014" /* C-Media CM108 */

static struct vdevice* ctl_dev;
static struct vdevice* pcm_devs[2]; /* by SNDRV_PCM_STREAM_* */
static struct vsnd_sub subs[2];

static struct vdevice* add_node(enum vdev_kind kind, int minor, const char* path) {
  struct vdevice* d = board_new_device(kind, 200 + minor);
  if (!d) return NULL;
  d->major = SND_MAJOR;
  d->minor = minor;
  snprintf(d->path, sizeof(d->path), "%s", path);
  g_board.devs[g_board.ndev++] = d;
  return d;
}

int vsnd_card_create(void) {
  ctl_dev = add_node(VDEV_SND_CTL, 0, "/dev/snd/controlC0");
  pcm_devs[SNDRV_PCM_STREAM_PLAYBACK] = add_node(VDEV_SND_PCM, 16, "/dev/snd/pcmC0D0p");
  pcm_devs[SNDRV_PCM_STREAM_CAPTURE] = add_node(VDEV_SND_PCM, 24, "/dev/snd/pcmC0D0c");
  if (!ctl_dev || !pcm_devs[0] || !pcm_devs[1]) return -1;
  for (int st = 0; st < 2; st++) vsnd_pcm_init(&subs[st], pcm_devs[st], st);
  return 0;
}

static void card_info(struct snd_ctl_card_info* ci) {
  memset(ci, 0, sizeof(*ci));
  ci->card = 0;
  snprintf((char*)ci->id, sizeof(ci->id), CARD_ID);
  snprintf((char*)ci->driver, sizeof(ci->driver), CARD_DRIVER);
  snprintf((char*)ci->name, sizeof(ci->name), CARD_NAME);
  snprintf((char*)ci->longname, sizeof(ci->longname), CARD_LONGNAME);
  snprintf((char*)ci->mixername, sizeof(ci->mixername), CARD_MIXER);
  snprintf((char*)ci->components, sizeof(ci->components), CARD_COMPONENTS);
}

static int pcm_info(struct snd_pcm_info* in) {
  if (in->device != 0) return ENXIO;
  if (in->stream != SNDRV_PCM_STREAM_PLAYBACK && in->stream != SNDRV_PCM_STREAM_CAPTURE)
    return EINVAL;
  if (in->subdevice != 0 && in->subdevice != (unsigned)-1) return ENXIO;
  struct vdevice* d = pcm_devs[in->stream];
  pthread_mutex_lock(&d->lock); /* control -> PCM is the only nesting */
  vsnd_pcm_info_of(d, in);
  pthread_mutex_unlock(&d->lock);
  return 0;
}

int vsnd_ctl_ioctl(struct vfile* f, unsigned long req, void* arg) {
  (void)f;
  if (_IOC_SIZE(req) && !arg) return EFAULT;
  switch (req) {
    case SNDRV_CTL_IOCTL_PVERSION:
      *(int*)arg = SNDRV_CTL_VERSION;
      return 0;
    case SNDRV_CTL_IOCTL_CARD_INFO:
      card_info(arg);
      return 0;
    case SNDRV_CTL_IOCTL_PCM_NEXT_DEVICE: {
      int* dev = arg;
      *dev = *dev < 0 ? 0 : -1;
      return 0;
    }
    case SNDRV_CTL_IOCTL_PCM_INFO:
      return pcm_info(arg);
    case SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE:
      return 0;
    case SNDRV_CTL_IOCTL_HWDEP_NEXT_DEVICE:
    case SNDRV_CTL_IOCTL_RAWMIDI_NEXT_DEVICE:
      *(int*)arg = -1; /* none */
      return 0;
    case SNDRV_CTL_IOCTL_HWDEP_INFO:
    case SNDRV_CTL_IOCTL_RAWMIDI_INFO:
      return ENXIO;
    case SNDRV_CTL_IOCTL_RAWMIDI_PREFER_SUBDEVICE:
      return 0;
    case SNDRV_CTL_IOCTL_SUBSCRIBE_EVENTS: {
      int* on = arg;
      if (*on < 0) *on = 0; /* query: not subscribed (no events ever come) */
      return 0;
    }
    case SNDRV_CTL_IOCTL_ELEM_LIST: {
      struct snd_ctl_elem_list* l = arg;
      l->count = 0;
      l->used = 0;
      return 0;
    }
    case SNDRV_CTL_IOCTL_ELEM_INFO:
    case SNDRV_CTL_IOCTL_ELEM_READ:
    case SNDRV_CTL_IOCTL_ELEM_WRITE:
    case SNDRV_CTL_IOCTL_ELEM_LOCK:
    case SNDRV_CTL_IOCTL_ELEM_UNLOCK:
    case SNDRV_CTL_IOCTL_ELEM_REMOVE:
    case SNDRV_CTL_IOCTL_TLV_READ:
    case SNDRV_CTL_IOCTL_TLV_WRITE:
    case SNDRV_CTL_IOCTL_TLV_COMMAND:
      return ENOENT; /* no such element */
    case SNDRV_CTL_IOCTL_ELEM_ADD:
    case SNDRV_CTL_IOCTL_ELEM_REPLACE:
      return EPERM; /* no user controls on this card */
    case SNDRV_CTL_IOCTL_POWER_STATE:
      *(int*)arg = SNDRV_CTL_POWER_D0;
      return 0;
    default:
      return ENOTTY;
  }
}

/* ---- /proc/asound ---- */

int vsnd_proc_content(const char* path, char* out, size_t n) {
  if (strncmp(path, "/proc/asound/", 13) != 0 || !ctl_dev || !ctl_dev->present) return -1;
  const char* leaf = path + 13;
  if (strcmp(leaf, "cards") == 0)
    return snprintf(out, n, " 0 [%-15s]: %s - %s\n                      %s\n", CARD_ID, CARD_DRIVER,
                    CARD_NAME, CARD_LONGNAME);
  if (strcmp(leaf, "pcm") == 0)
    return snprintf(out, n, "00-00: USB Audio : USB Audio : playback 1 : capture 1\n");
  if (strcmp(leaf, "version") == 0)
    return snprintf(out, n, "Advanced Linux Sound Architecture Driver Version k6.1.0.\n");
  if (strcmp(leaf, "card0/id") == 0 || strcmp(leaf, CARD_ID "/id") == 0)
    return snprintf(out, n, "%s\n", CARD_ID);
  return -1;
}
