/* What the file system shows of the virtual board: /dev/videoN and
 * /dev/snd/ entries (readdir, stat, access, readlink, realpath), a small
 * read-only sysfs (/sys/dev/char/M:m/uevent,
 * /sys/class/video4linux/videoN/{name,dev,index,uevent}) and the sound card's
 * /proc/asound files,
 * the parts v4l2-ctl, v4l2-compliance (media-info.cpp mi_media_detect_type reads
 * the uevent's DEVNAME) and device enumerators read. sysfs files are served
 * from memory (fmemopen / memfd), so nothing is written to disk. */
#define _GNU_SOURCE
#include "fsview.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "snd.h"
#include "vdev.h"

#define VIDEO_GID 44 /* Debian's "video" group */
#define AUDIO_GID 29 /* Debian's "audio" group */

static int is_snd(const struct vdevice* d) {
  return d->kind == VDEV_SND_CTL || d->kind == VDEV_SND_PCM;
}

const char* fs_card_name(const struct vdevice* d);

static struct vdevice* present_dev(const char* path) {
  struct vdevice* d = board_find_path(path);
  return d && d->present ? d : NULL;
}

/* ---- sysfs ---- */
int fs_open_sysfs(const char* path, int flags);

static const char* base_name(const struct vdevice* d) { return d->path + 5; /* after /dev/ */ }

static int sysfs_content(const char* path, char* out, size_t n) {
  if (strncmp(path, "/proc/asound/", 13) == 0) {
    board_init();
    return vsnd_proc_content(path, out, n);
  }
  if (strncmp(path, "/sys/", 5) != 0) return -1;
  board_init();
  for (int i = 0; i < g_board.ndev; i++) {
    struct vdevice* d = g_board.devs[i];
    if (!d->present) continue;
    char a[96], b[96];
    snprintf(a, sizeof(a), "/sys/dev/char/%d:%d/uevent", d->major, d->minor);
    snprintf(b, sizeof(b), "/sys/class/video4linux/%s/", base_name(d));
    const char* leaf = NULL;
    if (strcmp(path, a) == 0)
      leaf = "uevent";
    else if (d->kind != VDEV_MEDIA && !is_snd(d) && strncmp(path, b, strlen(b)) == 0)
      leaf = path + strlen(b);
    if (!leaf) continue;
    if (strcmp(leaf, "uevent") == 0)
      return snprintf(out, n, "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\n", d->major, d->minor, base_name(d));
    if (strcmp(leaf, "name") == 0) return snprintf(out, n, "%s\n", fs_card_name(d));
    if (strcmp(leaf, "dev") == 0) return snprintf(out, n, "%d:%d\n", d->major, d->minor);
    if (strcmp(leaf, "index") == 0) return snprintf(out, n, "0\n");
  }
  return -1;
}

/* A real fd behind the FILE: libstdc++'s filebuf reads through fileno(). */
FILE* fs_fopen(const char* path, const char* mode) {
  int fd = fs_open_sysfs(path, strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+')
                                   ? O_RDWR
                                   : (strchr(mode, 'e') ? O_CLOEXEC : 0));
  if (fd == -2) return NULL;
  if (fd < 0) return (FILE*)-1;
  FILE* f = fdopen(fd, "r");
  if (!f) {
    real.close(fd);
    return (FILE*)-1;
  }
  return f;
}

int fs_open_sysfs(const char* path, int flags) {
  char buf[256];
  int len = sysfs_content(path, buf, sizeof(buf));
  if (len < 0) return -2;
  if ((flags & O_ACCMODE) != O_RDONLY) {
    errno = EACCES;
    return -1;
  }
  int fd = memfd_create("camgw-sysfs", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
  if (fd < 0) return -1;
  if (write(fd, buf, (size_t)len) != len || lseek(fd, 0, SEEK_SET) != 0) {
    real.close(fd);
    errno = EIO;
    return -1;
  }
  return fd;
}

/* ---- stat ---- */

static void fill_stat(const struct vdevice* d, struct stat* st) {
  memset(st, 0, sizeof(*st));
  st->st_dev = makedev(0, 5); /* devtmpfs */
  st->st_ino = 1000 + (ino_t)d->num;
  st->st_mode = S_IFCHR | 0660;
  st->st_nlink = 1;
  st->st_uid = 0;
  st->st_gid = is_snd(d) ? AUDIO_GID : VIDEO_GID;
  st->st_rdev = makedev((unsigned)d->major, (unsigned)d->minor);
  st->st_blksize = 4096;
  clock_gettime(CLOCK_REALTIME, &st->st_atim);
  st->st_mtim = st->st_ctim = st->st_atim;
}

/* /dev/snd itself, when only the virtual card puts it there */
static int is_snd_dir(const char* path) {
  if (!path || strncmp(path, "/dev/snd", 8) != 0 || (path[8] && strcmp(path + 8, "/") != 0))
    return 0;
  board_init();
  struct stat real_st;
  return g_board.audio && real.stat("/dev/snd", &real_st) != 0;
}

int fs_stat_path(const char* path, struct stat* st) {
  if (is_snd_dir(path)) {
    memset(st, 0, sizeof(*st));
    st->st_dev = makedev(0, 5);
    st->st_ino = 999;
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    st->st_blksize = 4096;
    return 0;
  }
  struct vdevice* d = board_find_path(path);
  if (!d) return -2;
  if (!d->present) {
    errno = ENOENT;
    return -1;
  }
  fill_stat(d, st);
  return 0;
}

int fs_stat_vfile(const struct vfile* f, struct stat* st) {
  fill_stat(f->dev, st);
  return 0;
}

int fs_access(const char* path) {
  if (is_snd_dir(path)) return 0;
  struct vdevice* d = board_find_path(path);
  if (!d) return -2;
  if (!d->present) {
    errno = ENOENT;
    return -1;
  }
  return 0;
}

/* ---- directories: /dev gains videoN entries; /sys/class/video4linux is made up ---- */

struct vdir {
  DIR* d;
  int fake;      /* directory does not exist for real: only our entries */
  int real_done; /* real entries exhausted, now emitting ours */
  int n, pos;
  char names[12][24];
  unsigned char types[12];
  const char* shadow; /* real entries under this prefix that we shadow */
  struct dirent ent;
  struct dirent64 ent64;
  struct vdir* next;
};

static struct vdir* dirs;
static atomic_int ndirs;
static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;

/* The encoder's device directory holds its media node, which is how
 * media-info.cpp (mi_get_media_fd) finds /dev/mediaN for a video node. */
static int is_encoder_device_dir(const char* path) {
  for (int i = 0; i < g_board.ndev; i++) {
    char p[64];
    snprintf(p, sizeof(p), "/sys/dev/char/81:%d/device", g_board.devs[i]->minor);
    if (g_board.devs[i]->kind == VDEV_ENCODER && g_board.devs[i]->present && strcmp(path, p) == 0)
      return 1;
  }
  return 0;
}

/* /sys/dev/char/M:m of a present node (v4l2-compliance's checkDevice opens it) */
static struct vdevice* char_dir_device(const char* path) {
  for (int i = 0; i < g_board.ndev; i++) {
    char p[64];
    snprintf(p, sizeof(p), "/sys/dev/char/%d:%d", g_board.devs[i]->major, g_board.devs[i]->minor);
    if (g_board.devs[i]->present && strcmp(path, p) == 0) return g_board.devs[i];
  }
  return NULL;
}

static void add_entry(struct vdir* v, const char* name, unsigned char type) {
  if (v->n >= (int)(sizeof(v->names) / sizeof(v->names[0]))) return;
  snprintf(v->names[v->n], sizeof(v->names[0]), "%s", name);
  v->types[v->n++] = type;
}

DIR* fs_opendir(const char* path) {
  int is_dev = strcmp(path, "/dev") == 0 || strcmp(path, "/dev/") == 0;
  int snd_dir = strcmp(path, "/dev/snd") == 0 || strcmp(path, "/dev/snd/") == 0;
  int is_v4l = strcmp(path, "/sys/class/video4linux") == 0;
  board_init();
  if (snd_dir && !g_board.audio) return NULL;
  int is_encdev = !is_dev && !snd_dir && !is_v4l && is_encoder_device_dir(path);
  struct vdevice* chardev = is_dev || snd_dir || is_v4l || is_encdev ? NULL : char_dir_device(path);
  if (!is_dev && !snd_dir && !is_v4l && !is_encdev && !chardev) return NULL;
  struct vdir* v = calloc(1, sizeof(*v));
  if (!v) return NULL;
  v->shadow = snd_dir ? "/dev/snd/" : "/dev/";
  v->d = is_encdev || chardev ? NULL : real.opendir(path);
  if (!v->d && !is_dev) {
    v->fake = 1;
    v->d = real.opendir("/");
    add_entry(v, ".", DT_DIR);
    add_entry(v, "..", DT_DIR);
  }
  if (!v->d) {
    free(v);
    return NULL;
  }
  if (chardev) {
    add_entry(v, "uevent", DT_REG);
    if (chardev->kind == VDEV_ENCODER) add_entry(v, "device", DT_DIR);
  }
  struct stat real_snd;
  if (is_dev && g_board.audio && real.stat("/dev/snd", &real_snd) != 0) add_entry(v, "snd", DT_DIR);
  for (int i = 0; i < g_board.ndev && !chardev; i++) {
    struct vdevice* d = g_board.devs[i];
    if (!d->present) continue;
    if (snd_dir != is_snd(d)) continue;
    if ((is_v4l && d->kind == VDEV_MEDIA) || (is_encdev && d->kind != VDEV_MEDIA)) continue;
    if (snd_dir)
      add_entry(v, d->path + 9, DT_CHR); /* after /dev/snd/ */
    else
      add_entry(v, base_name(d), is_v4l ? DT_LNK : is_encdev ? DT_DIR : DT_CHR);
  }
  pthread_mutex_lock(&dir_lock);
  v->next = dirs;
  dirs = v;
  atomic_fetch_add(&ndirs, 1);
  pthread_mutex_unlock(&dir_lock);
  return v->d;
}

static struct vdir* find_dir(DIR* d) {
  if (atomic_load_explicit(&ndirs, memory_order_relaxed) == 0) return NULL;
  pthread_mutex_lock(&dir_lock);
  struct vdir* v = dirs;
  while (v && v->d != d) v = v->next;
  pthread_mutex_unlock(&dir_lock);
  return v;
}

/* Returns our next name, or NULL to let the real readdir answer. */
static const char* next_name(struct vdir* v, DIR* d, int* from_real) {
  *from_real = 0;
  if (!v->fake && !v->real_done) {
    *from_real = 1;
    return NULL;
  }
  (void)d;
  return v->pos < v->n ? v->names[v->pos++] : "";
}

struct dirent* fs_readdir(DIR* d, int* handled) {
  struct vdir* v = find_dir(d);
  *handled = v != NULL;
  if (!v) return NULL;
  int from_real;
  for (;;) {
    const char* name = next_name(v, d, &from_real);
    if (from_real) {
      struct dirent* e = real.readdir(d);
      if (e) {
        /* a real node of the same name is shadowed by ours */
        char full[300];
        snprintf(full, sizeof(full), "%s%s", v->shadow, e->d_name);
        if (board_find_path(full)) continue;
        return e;
      }
      v->real_done = 1;
      continue;
    }
    if (!*name) return NULL;
    memset(&v->ent, 0, sizeof(v->ent));
    v->ent.d_ino = 1000 + (ino_t)v->pos;
    v->ent.d_type = v->types[v->pos - 1];
    v->ent.d_reclen = sizeof(v->ent);
    snprintf(v->ent.d_name, sizeof(v->ent.d_name), "%s", name);
    return &v->ent;
  }
}

struct dirent64* fs_readdir64(DIR* d, int* handled) {
  struct vdir* v = find_dir(d);
  *handled = v != NULL;
  if (!v) return NULL;
  struct dirent* e = fs_readdir(d, handled);
  if (!e) return NULL;
  memset(&v->ent64, 0, sizeof(v->ent64));
  v->ent64.d_ino = e->d_ino;
  v->ent64.d_off = e->d_off;
  v->ent64.d_type = e->d_type;
  v->ent64.d_reclen = sizeof(v->ent64);
  snprintf(v->ent64.d_name, sizeof(v->ent64.d_name), "%s", e->d_name);
  return &v->ent64;
}

void fs_closedir(DIR* d) {
  if (atomic_load_explicit(&ndirs, memory_order_relaxed) == 0) return;
  pthread_mutex_lock(&dir_lock);
  for (struct vdir** p = &dirs; *p; p = &(*p)->next) {
    if ((*p)->d == d) {
      struct vdir* v = *p;
      *p = v->next;
      atomic_fetch_sub(&ndirs, 1);
      free(v);
      break;
    }
  }
  pthread_mutex_unlock(&dir_lock);
}

ssize_t fs_readlink(const char* path) {
  if (present_dev(path)) {
    errno = EINVAL; /* a device node, not a link */
    return -1;
  }
  return -2;
}
