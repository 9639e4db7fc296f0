/* Resolution of the real libc functions (see real.h). */
#define _GNU_SOURCE
#include "real.h"

#include <dlfcn.h>
#include <pthread.h>

struct real_fns real;

#define R(field, name) real.field = (__typeof__(real.field))dlsym(RTLD_NEXT, name)

static void resolve(void) {
  R(open, "open");
  R(open64, "open64");
  R(openat, "openat");
  R(openat64, "openat64");
  R(open_2, "__open_2");
  R(open64_2, "__open64_2");
  R(close, "close");
  R(ioctl, "ioctl");
  R(mmap, "mmap");
  R(mmap64, "mmap64");
  R(munmap, "munmap");
  R(poll, "poll");
  R(ppoll, "ppoll");
  R(select, "select");
  R(pselect, "pselect");
  R(epoll_ctl, "epoll_ctl");
  R(epoll_wait, "epoll_wait");
  R(epoll_pwait, "epoll_pwait");
  R(read, "read");
  R(dup, "dup");
  R(dup2, "dup2");
  R(dup3, "dup3");
  R(fcntl, "fcntl");
  R(fcntl64, "fcntl64");
  R(stat, "stat");
  R(lstat, "lstat");
  R(fstat, "fstat");
  R(fstatat, "fstatat");
  R(stat64, "stat64");
  R(lstat64, "lstat64");
  R(fstat64, "fstat64");
  R(fstatat64, "fstatat64");
  R(xstat, "__xstat");
  R(lxstat, "__lxstat");
  R(fxstat, "__fxstat");
  R(xstat64, "__xstat64");
  R(lxstat64, "__lxstat64");
  R(fxstat64, "__fxstat64");
  R(statx, "statx");
  R(access, "access");
  R(faccessat, "faccessat");
  R(opendir, "opendir");
  R(readdir, "readdir");
  R(readdir64, "readdir64");
  R(closedir, "closedir");
  R(fopen, "fopen");
  R(fopen64, "fopen64");
  R(readlink, "readlink");
  R(realpath, "realpath");
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

void real_init(void) { pthread_once(&once, resolve); }
