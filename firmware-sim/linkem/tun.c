#define _GNU_SOURCE
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tun_open_in_netns(const char* ns_path, const char* name) {
  if (strlen(name) >= IFNAMSIZ) {
    fprintf(stderr, "linkem: device name \"%s\" is longer than %d characters\n", name,
            IFNAMSIZ - 1);
    return -1;
  }
  int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    fprintf(stderr, "linkem: cannot open namespace %s: %s\n", ns_path, strerror(errno));
    return -1;
  }
  /* TUNSETIFF creates the device in the calling thread's network namespace. */
  int rc = setns(ns, CLONE_NEWNET);
  int err = errno;
  close(ns);
  if (rc < 0) {
    fprintf(stderr, "linkem: cannot enter namespace %s: %s\n", ns_path, strerror(err));
    return -1;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "linkem: cannot open /dev/net/tun: %s\n", strerror(errno));
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  /* IFF_NO_PI: whole IP packets, without the 4-byte flags/protocol prefix. */
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "linkem: cannot create %s in %s: %s\n", name, ns_path, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}
