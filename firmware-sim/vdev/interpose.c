/* The system calls a V4L2 program makes, interposed (umockdev's technique):
 * calls on virtual nodes and their fds are answered here, everything else goes
 * straight to libc through the pointers in real.c. Keep the pass-through path
 * to one comparison or one table load: Node itself runs with this preloaded. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fsview.h"
#include "real.h"
#include "snd.h"
#include "vdev.h"

#define ENSURE(fn)             \
  do {                         \
    if (!real.fn) real_init(); \
  } while (0)

extern atomic_int g_vfiles_open;
int known_ioctl(unsigned long req);

__attribute__((constructor)) static void vdev_ctor(void) { real_init(); }

/* ---- open ---- */

static int vopen(struct vdevice* d, int flags) {
  pthread_mutex_lock(&d->lock);
  if (!d->present) {
    pthread_mutex_unlock(&d->lock);
    errno = ENOENT;
    return -1;
  }
  struct vfile* f = calloc(1, sizeof(*f));
  int efl = ((flags & O_NONBLOCK) ? EFD_NONBLOCK : 0) | ((flags & O_CLOEXEC) ? EFD_CLOEXEC : 0);
  int ufd = f ? eventfd(0, efl) : -1;
  if (ufd < 0) {
    pthread_mutex_unlock(&d->lock);
    free(f);
    errno = ENOMEM;
    return -1;
  }
  /* A private fd on the same eventfd: the process may close or dup2 over
   * the fd it was given while other dups keep the file open. */
  f->evfd = real.fcntl(ufd, F_DUPFD_CLOEXEC, 100);
  f->dev = d;
  f->generation = d->generation;
  f->prio = V4L2_PRIORITY_DEFAULT;
  int err = 0;
  if (d->kind == VDEV_ENCODER && encoder_open(f) != 0) err = ENOMEM;
  if (d->kind == VDEV_SND_PCM) err = vsnd_pcm_open(f, flags); /* may wait for the owner */
  if (err) {
    pthread_mutex_unlock(&d->lock);
    real.close(f->evfd);
    real.close(ufd);
    free(f);
    errno = err;
    return -1;
  }
  f->next = d->files;
  d->files = f;
  atomic_fetch_add(&g_vfiles_open, 1);
  vfile_update_level(f);
  pthread_mutex_unlock(&d->lock);
  fd_set_vfile(ufd, f);
  return ufd;
}

static int open_common(const char* path, int flags, mode_t mode, int dirfd, int at) {
  struct vdevice* d = board_find_path(path);
  if (d) return vopen(d, flags);
  if (path && path[0] == '/' && (path[1] == 's' || path[1] == 'p')) {
    int fd = fs_open_sysfs(path, flags);
    if (fd != -2) return fd;
  }
  if (at) return real.openat(dirfd, path, flags, mode);
  return real.open(path, flags, mode);
}

static mode_t va_mode(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char* path, int flags, ...) {
  ENSURE(open);
  va_list ap;
  va_start(ap, flags);
  mode_t m = va_mode(flags, ap);
  va_end(ap);
  return open_common(path, flags, m, AT_FDCWD, 0);
}

int open64(const char* path, int flags, ...) {
  ENSURE(open);
  va_list ap;
  va_start(ap, flags);
  mode_t m = va_mode(flags, ap);
  va_end(ap);
  return open_common(path, flags | O_LARGEFILE, m, AT_FDCWD, 0);
}

int openat(int dirfd, const char* path, int flags, ...) {
  ENSURE(openat);
  va_list ap;
  va_start(ap, flags);
  mode_t m = va_mode(flags, ap);
  va_end(ap);
  return open_common(path, flags, m, dirfd, 1);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  ENSURE(openat);
  va_list ap;
  va_start(ap, flags);
  mode_t m = va_mode(flags, ap);
  va_end(ap);
  return open_common(path, flags | O_LARGEFILE, m, dirfd, 1);
}

int __open_2(const char* path, int flags) {
  ENSURE(open);
  return open_common(path, flags, 0, AT_FDCWD, 0);
}

int __open64_2(const char* path, int flags) {
  ENSURE(open);
  return open_common(path, flags | O_LARGEFILE, 0, AT_FDCWD, 0);
}

FILE* fopen(const char* path, const char* mode) {
  ENSURE(fopen);
  if (path && (strncmp(path, "/sys/", 5) == 0 || strncmp(path, "/proc/asound/", 13) == 0)) {
    FILE* f = fs_fopen(path, mode);
    if (f == (FILE*)-1) return NULL;
    if (f) return f;
  }
  return real.fopen(path, mode);
}

FILE* fopen64(const char* path, const char* mode) {
  ENSURE(fopen64);
  if (path && (strncmp(path, "/sys/", 5) == 0 || strncmp(path, "/proc/asound/", 13) == 0)) {
    FILE* f = fs_fopen(path, mode);
    if (f == (FILE*)-1) return NULL;
    if (f) return f;
  }
  return real.fopen64(path, mode);
}

/* ---- close / dup ---- */

int close(int fd) {
  ENSURE(close);
  struct vfile* f = fd_take(fd);
  int r = real.close(fd);
  if (f) fd_put(f); /* drop the table's reference; the last one releases the file */
  return r;
}

static int dup_to(int oldfd, int newfd) {
  if (newfd < 0) return newfd;
  struct vfile* f = fd_get(oldfd);
  if (f) {
    fd_set_vfile(newfd, f);
    fd_put(f);
  } else {
    struct vfile* stale = fd_take(newfd); /* dup2 over a virtual fd closes it */
    if (stale) fd_put(stale);
  }
  return newfd;
}

int dup(int fd) {
  ENSURE(dup);
  return dup_to(fd, real.dup(fd));
}

int dup2(int fd, int fd2) {
  ENSURE(dup2);
  if (fd == fd2) return real.dup2(fd, fd2);
  return dup_to(fd, real.dup2(fd, fd2));
}

int dup3(int fd, int fd2, int flags) {
  ENSURE(dup3);
  return dup_to(fd, real.dup3(fd, fd2, flags));
}

static int fcntl_common(int (*fn)(int, int, ...), int fd, int cmd, void* arg) {
  int r = fn(fd, cmd, arg);
  if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0) dup_to(fd, r);
  return r;
}

int fcntl(int fd, int cmd, ...) {
  ENSURE(fcntl);
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_common(real.fcntl, fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...) {
  ENSURE(fcntl64);
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_common(real.fcntl64 ? real.fcntl64 : real.fcntl, fd, cmd, arg);
}

/* ---- ioctl ---- */

int ioctl(int fd, unsigned long req, ...) {
  va_list ap;
  va_start(ap, req);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  ENSURE(ioctl);
  struct vfile* f = fd_get(fd);
  if (!f) return real.ioctl(fd, req, arg);
  struct vdevice* d = f->dev;
  int err;
  pthread_mutex_lock(&d->lock);
  if (!d->present || f->generation != d->generation) {
    err = ENODEV; /* video_unregister_device(): every fop fails with -ENODEV */
  } else if (d->kind == VDEV_SND_PCM) {
    err = vsnd_pcm_ioctl(f, req, arg); /* checks its own arguments: PAUSE passes a value */
  } else if (d->kind == VDEV_SND_CTL) {
    err = vsnd_ctl_ioctl(f, req, arg);
  } else if (!known_ioctl(req)) {
    err = ENOTTY;
  } else if (_IOC_SIZE(req) && !arg) {
    err = EFAULT; /* video_usercopy() cannot copy from NULL */
  } else {
    int handled = 0;
    if (d->kind == VDEV_MEDIA)
      err = media_ioctl(f, req, arg);
    else
      err = common_ioctl(f, req, arg, &handled);
    if (d->kind == VDEV_MEDIA) handled = 1;
    if (!handled)
      err = d->kind == VDEV_CAMERA ? camera_ioctl(f, req, arg) : encoder_ioctl(f, req, arg);
  }
  pthread_mutex_unlock(&d->lock);
  fd_put(f);
  if (err) {
    errno = err;
    return -1;
  }
  return 0;
}

/* ---- read/write: no V4L2_CAP_READWRITE, so the core answers EINVAL ---- */

ssize_t read(int fd, void* buf, size_t n) {
  ENSURE(read);
  struct vfile* f = fd_get(fd);
  if (!f) return real.read(fd, buf, n);
  fd_put(f);
  errno = EINVAL;
  return -1;
}

/* ---- mmap ---- */

void* vdev_mmap(struct vfile* f, void* addr, size_t len, int prot, int flags, off_t off);

void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  ENSURE(mmap);
  struct vfile* f = fd_get(fd);
  if (!f) return real.mmap(addr, len, prot, flags, fd, off);
  void* r = vdev_mmap(f, addr, len, prot, flags, off);
  fd_put(f);
  return r;
}

void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off64_t off) {
  return mmap(addr, len, prot, flags, fd, (off_t)off);
}

/* ---- stat family ---- */

int stat(const char* p, struct stat* st) {
  ENSURE(stat);
  int r = fs_stat_path(p, st);
  return r != -2 ? r : real.stat(p, st);
}

int lstat(const char* p, struct stat* st) {
  ENSURE(lstat);
  int r = fs_stat_path(p, st);
  return r != -2 ? r : real.lstat(p, st);
}

int fstat(int fd, struct stat* st) {
  ENSURE(fstat);
  struct vfile* f = fd_get(fd);
  if (!f) return real.fstat(fd, st);
  int r = fs_stat_vfile(f, st);
  fd_put(f);
  return r;
}

/* "video0" relative to an fd open on /dev (ls, find and friends stat that way) */
static const char* at_path(int dirfd, const char* p, char* buf, size_t n) {
  if (p[0] == '/' || dirfd == AT_FDCWD || strchr(p, '/') ||
      (strncmp(p, "video", 5) != 0 && strncmp(p, "media", 5) != 0))
    return p;
  char link[32], dir[16];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
  ssize_t len = real.readlink(link, dir, sizeof(dir) - 1);
  if (len != 4 || memcmp(dir, "/dev", 4) != 0) return p;
  snprintf(buf, n, "/dev/%s", p);
  return buf;
}

int fstatat(int dirfd, const char* p, struct stat* st, int flags) {
  ENSURE(fstatat);
  char buf[64];
  if (!*p && (flags & AT_EMPTY_PATH)) return fstat(dirfd, st);
  int r = fs_stat_path(at_path(dirfd, p, buf, sizeof(buf)), st);
  return r != -2 ? r : real.fstatat(dirfd, p, st, flags);
}

/* On LP64 struct stat64 and struct stat have the same layout. */
int stat64(const char* p, struct stat64* st) { return stat(p, (struct stat*)st); }
int lstat64(const char* p, struct stat64* st) { return lstat(p, (struct stat*)st); }
int fstat64(int fd, struct stat64* st) { return fstat(fd, (struct stat*)st); }
int fstatat64(int dirfd, const char* p, struct stat64* st, int flags) {
  return fstatat(dirfd, p, (struct stat*)st, flags);
}

/* Pre-2.33 glibc binaries call these instead. */
int __xstat(int ver, const char* p, struct stat* st) {
  ENSURE(xstat);
  int r = fs_stat_path(p, st);
  if (r != -2) return r;
  return real.xstat ? real.xstat(ver, p, st) : real.stat(p, st);
}
int __lxstat(int ver, const char* p, struct stat* st) {
  ENSURE(lxstat);
  int r = fs_stat_path(p, st);
  if (r != -2) return r;
  return real.lxstat ? real.lxstat(ver, p, st) : real.lstat(p, st);
}
int __fxstat(int ver, int fd, struct stat* st) {
  ENSURE(fxstat);
  struct vfile* f = fd_get(fd);
  if (!f) return real.fxstat ? real.fxstat(ver, fd, st) : real.fstat(fd, st);
  int r = fs_stat_vfile(f, st);
  fd_put(f);
  return r;
}
int __xstat64(int ver, const char* p, struct stat64* st) {
  return __xstat(ver, p, (struct stat*)st);
}
int __lxstat64(int ver, const char* p, struct stat64* st) {
  return __lxstat(ver, p, (struct stat*)st);
}
int __fxstat64(int ver, int fd, struct stat64* st) { return __fxstat(ver, fd, (struct stat*)st); }

static void stat_to_statx(const struct stat* st, struct statx* sx) {
  memset(sx, 0, sizeof(*sx));
  sx->stx_mask = STATX_BASIC_STATS;
  sx->stx_mode = (uint16_t)st->st_mode;
  sx->stx_nlink = (uint32_t)st->st_nlink;
  sx->stx_uid = st->st_uid;
  sx->stx_gid = st->st_gid;
  sx->stx_ino = st->st_ino;
  sx->stx_blksize = (uint32_t)st->st_blksize;
  sx->stx_rdev_major = major(st->st_rdev);
  sx->stx_rdev_minor = minor(st->st_rdev);
  sx->stx_dev_major = major(st->st_dev);
  sx->stx_dev_minor = minor(st->st_dev);
  sx->stx_atime.tv_sec = st->st_atim.tv_sec;
  sx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
  sx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
}

int statx(int dirfd, const char* p, int flags, unsigned mask, struct statx* sx) {
  ENSURE(statx);
  struct stat st;
  int r = -2;
  if (!*p && (flags & AT_EMPTY_PATH)) {
    struct vfile* f = fd_get(dirfd);
    if (f) {
      r = fs_stat_vfile(f, &st);
      fd_put(f);
    }
  } else {
    char buf[64];
    r = fs_stat_path(at_path(dirfd, p, buf, sizeof(buf)), &st);
  }
  if (r == -2) return real.statx(dirfd, p, flags, mask, sx);
  if (r == 0) stat_to_statx(&st, sx);
  return r;
}

int access(const char* p, int mode) {
  ENSURE(access);
  int r = fs_access(p);
  return r != -2 ? r : real.access(p, mode);
}

int faccessat(int dirfd, const char* p, int mode, int flags) {
  ENSURE(faccessat);
  int r = fs_access(p);
  return r != -2 ? r : real.faccessat(dirfd, p, mode, flags);
}

ssize_t readlink(const char* p, char* buf, size_t n) {
  ENSURE(readlink);
  ssize_t r = fs_readlink(p);
  return r != -2 ? r : real.readlink(p, buf, n);
}

char* realpath(const char* p, char* resolved) {
  ENSURE(realpath);
  struct vdevice* d = board_find_path(p);
  if (!d || !d->present) return real.realpath(p, resolved);
  if (!resolved) return strdup(d->path);
  strcpy(resolved, d->path);
  return resolved;
}

/* ---- directories ---- */

DIR* opendir(const char* p) {
  ENSURE(opendir);
  if (strncmp(p, "/dev", 4) != 0 && strncmp(p, "/sys/class/video4linux", 22) != 0 &&
      strncmp(p, "/sys/dev/char/", 14) != 0)
    return real.opendir(p);
  DIR* d = fs_opendir(p);
  return d ? d : real.opendir(p);
}

struct dirent* readdir(DIR* d) {
  ENSURE(readdir);
  int handled;
  struct dirent* e = fs_readdir(d, &handled);
  return handled ? e : real.readdir(d);
}

struct dirent64* readdir64(DIR* d) {
  ENSURE(readdir64);
  int handled;
  struct dirent64* e = fs_readdir64(d, &handled);
  return handled ? e : real.readdir64(d);
}

int closedir(DIR* d) {
  ENSURE(closedir);
  fs_closedir(d);
  return real.closedir(d);
}
