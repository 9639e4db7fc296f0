/* The real libc entry points behind the interposed ones (dlsym RTLD_NEXT),
 * as umockdev's preload library resolves them. Resolved once, before main,
 * from the library constructor; every later call is a plain indirect call. */
#ifndef CAMGW_REAL_H
#define CAMGW_REAL_H

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>

struct real_fns {
  int (*open)(const char*, int, ...);
  int (*open64)(const char*, int, ...);
  int (*openat)(int, const char*, int, ...);
  int (*openat64)(int, const char*, int, ...);
  int (*open_2)(const char*, int);
  int (*open64_2)(const char*, int);
  int (*close)(int);
  int (*ioctl)(int, unsigned long, ...);
  void* (*mmap)(void*, size_t, int, int, int, off_t);
  void* (*mmap64)(void*, size_t, int, int, int, off64_t);
  int (*munmap)(void*, size_t);
  int (*poll)(struct pollfd*, nfds_t, int);
  int (*ppoll)(struct pollfd*, nfds_t, const struct timespec*, const sigset_t*);
  int (*select)(int, fd_set*, fd_set*, fd_set*, struct timeval*);
  int (*pselect)(int, fd_set*, fd_set*, fd_set*, const struct timespec*, const sigset_t*);
  int (*epoll_ctl)(int, int, int, struct epoll_event*);
  int (*epoll_wait)(int, struct epoll_event*, int, int);
  int (*epoll_pwait)(int, struct epoll_event*, int, int, const sigset_t*);
  ssize_t (*read)(int, void*, size_t);
  int (*dup)(int);
  int (*dup2)(int, int);
  int (*dup3)(int, int, int);
  int (*fcntl)(int, int, ...);
  int (*fcntl64)(int, int, ...);
  int (*stat)(const char*, struct stat*);
  int (*lstat)(const char*, struct stat*);
  int (*fstat)(int, struct stat*);
  int (*fstatat)(int, const char*, struct stat*, int);
  int (*stat64)(const char*, struct stat64*);
  int (*lstat64)(const char*, struct stat64*);
  int (*fstat64)(int, struct stat64*);
  int (*fstatat64)(int, const char*, struct stat64*, int);
  int (*xstat)(int, const char*, struct stat*);
  int (*lxstat)(int, const char*, struct stat*);
  int (*fxstat)(int, int, struct stat*);
  int (*xstat64)(int, const char*, struct stat64*);
  int (*lxstat64)(int, const char*, struct stat64*);
  int (*fxstat64)(int, int, struct stat64*);
  int (*statx)(int, const char*, int, unsigned, struct statx*);
  int (*access)(const char*, int);
  int (*faccessat)(int, const char*, int, int);
  DIR* (*opendir)(const char*);
  struct dirent* (*readdir)(DIR*);
  struct dirent64* (*readdir64)(DIR*);
  int (*closedir)(DIR*);
  FILE* (*fopen)(const char*, const char*);
  FILE* (*fopen64)(const char*, const char*);
  ssize_t (*readlink)(const char*, char*, size_t);
  char* (*realpath)(const char*, char*);
};

extern struct real_fns real;
void real_init(void);

#endif
