/*
 * camgw-linkem: one emulated link of the network lab (firmware-sim/src/net).
 *
 * The kernel here has no netem qdisc, so delay, jitter, loss, reordering
 * and the bandwidth cap are applied in user space: the program creates a
 * TUN device in each of two network namespaces and carries IP packets
 * between them through one impairment model per direction.
 *
 *   camgw-linkem --ns-a /run/netns/A --dev-a NAME --ns-b /run/netns/B --dev-b NAME [--seed N]
 *
 * It prints "ready" once both devices exist, then takes commands on stdin,
 * one a line, answering each with one line on stdout:
 *   set ab|ba [key=value ...]  replaces one direction's parameters (missing
 *                              keys are 0): ge_p, ge_r, reorder (ppm), rate
 *                              (bit/s), queue, delay, jitter (us), down (0|1)
 *                              -> "ok" or "error MESSAGE"
 *   stats                      -> "stats {JSON counters of ab and ba}"
 * End of stdin (the lab that started it is gone, even by SIGKILL) ends it,
 * and with it both devices.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "impair.h"
#include "tun.h"

enum { AB = 0, BA = 1 };

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage(void) {
  fprintf(stderr,
          "usage: camgw-linkem --ns-a PATH --dev-a NAME --ns-b PATH --dev-b NAME [--seed N]\n");
}

static int parse_u64(const char* s, uint64_t* out) {
  char* end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-') return -1;
  *out = v;
  return 0;
}

/* "set ab key=value ..." into d; returns NULL or what is wrong. */
static const char* apply_set(char* args, struct impair dirs[2]) {
  char* save;
  char* dir = strtok_r(args, " \t", &save);
  int which;
  if (dir && strcmp(dir, "ab") == 0) {
    which = AB;
  } else if (dir && strcmp(dir, "ba") == 0) {
    which = BA;
  } else {
    return "set needs a direction, ab or ba";
  }
  struct impair_params p;
  memset(&p, 0, sizeof p);
  for (char* kv = strtok_r(NULL, " \t", &save); kv; kv = strtok_r(NULL, " \t", &save)) {
    char* eq = strchr(kv, '=');
    uint64_t v;
    if (!eq || parse_u64(eq + 1, &v) < 0) return "parameters are key=unsigned integer";
    *eq = '\0';
    if (strcmp(kv, "ge_p") == 0 && v <= 1000000) {
      p.ge_p_ppm = (uint32_t)v;
    } else if (strcmp(kv, "ge_r") == 0 && v <= 1000000) {
      p.ge_r_ppm = (uint32_t)v;
    } else if (strcmp(kv, "reorder") == 0 && v <= 1000000) {
      p.reorder_ppm = (uint32_t)v;
    } else if (strcmp(kv, "rate") == 0) {
      p.rate_bps = v;
    } else if (strcmp(kv, "queue") == 0) {
      p.queue_us = v;
    } else if (strcmp(kv, "delay") == 0) {
      p.delay_us = v;
    } else if (strcmp(kv, "jitter") == 0) {
      p.jitter_us = v;
    } else if (strcmp(kv, "down") == 0 && v <= 1) {
      p.down = (int)v;
    } else {
      return "unknown parameter or value out of range";
    }
  }
  impair_set(&dirs[which], &p);
  return NULL;
}

static void print_stats(const struct impair* d) {
  const struct impair_stats* s = &d->stats;
  printf("{\"in\":%" PRIu64 ",\"inBytes\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"queueDrops\":%" PRIu64
         ",\"downDrops\":%" PRIu64 ",\"overflow\":%" PRIu64 ",\"reordered\":%" PRIu64
         ",\"out\":%" PRIu64 ",\"outBytes\":%" PRIu64 ",\"txErrors\":%" PRIu64 ",\"queued\":%zu}",
         s->in, s->in_bytes, s->lost, s->queue_drops, s->down_drops, s->overflow, s->reordered,
         s->out, s->out_bytes, s->tx_errors, d->count + (d->held != NULL));
}

static void handle_command(char* line, struct impair dirs[2]) {
  if (strncmp(line, "set ", 4) == 0 || strcmp(line, "set") == 0) {
    const char* err = apply_set(line + 3, dirs);
    if (err) {
      printf("error %s\n", err);
    } else {
      printf("ok\n");
    }
  } else if (strcmp(line, "stats") == 0) {
    printf("stats {\"ab\":");
    print_stats(&dirs[AB]);
    printf(",\"ba\":");
    print_stats(&dirs[BA]);
    printf("}\n");
  } else {
    printf("error unknown command\n");
  }
  fflush(stdout);
}

/* Reads what stdin has; runs complete lines. Returns 0 at end of input. */
static int read_commands(char* buf, size_t* used, size_t size, struct impair dirs[2]) {
  ssize_t n = read(STDIN_FILENO, buf + *used, size - 1 - *used);
  if (n == 0) return 0;
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  *used += (size_t)n;
  char* start = buf;
  char* nl;
  while ((nl = memchr(start, '\n', *used - (size_t)(start - buf)))) {
    *nl = '\0';
    handle_command(start, dirs);
    start = nl + 1;
  }
  *used -= (size_t)(start - buf);
  memmove(buf, start, *used);
  if (*used == size - 1) *used = 0; /* a line longer than the buffer: drop it */
  return 1;
}

/* Reads every packet waiting on fd into d. Returns -1 when the device is gone. */
static int read_packets(int fd, struct impair* d) {
  static unsigned char packet[65536];
  for (int i = 0; i < 256; i++) {
    ssize_t n = read(fd, packet, sizeof packet);
    if (n > 0) {
      impair_input(d, packet, (size_t)n, now_us());
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1;
  }
  return 0;
}

static void deliver(struct impair* d, int fd, uint64_t now) {
  struct packet* pkt;
  while ((pkt = impair_pop_due(d, now))) {
    if (write(fd, pkt->data, pkt->len) == (ssize_t)pkt->len) {
      d->stats.out++;
      d->stats.out_bytes += pkt->len;
    } else {
      d->stats.tx_errors++;
    }
    free(pkt);
  }
}

int main(int argc, char** argv) {
  const char *ns_a = NULL, *dev_a = NULL, *ns_b = NULL, *dev_b = NULL;
  uint64_t seed = 1;
  for (int i = 1; i < argc; i++) {
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      usage();
      return 2;
    }
    if (strcmp(argv[i], "--ns-a") == 0) {
      ns_a = v;
    } else if (strcmp(argv[i], "--dev-a") == 0) {
      dev_a = v;
    } else if (strcmp(argv[i], "--ns-b") == 0) {
      ns_b = v;
    } else if (strcmp(argv[i], "--dev-b") == 0) {
      dev_b = v;
    } else if (strcmp(argv[i], "--seed") == 0) {
      if (parse_u64(v, &seed) < 0) {
        usage();
        return 2;
      }
    } else {
      usage();
      return 2;
    }
    i++;
  }
  if (!ns_a || !dev_a || !ns_b || !dev_b) {
    usage();
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int fds[2];
  fds[AB] = tun_open_in_netns(ns_a, dev_a);
  if (fds[AB] < 0) return 1;
  fds[BA] = tun_open_in_netns(ns_b, dev_b);
  if (fds[BA] < 0) return 1;

  struct impair dirs[2];
  /* Each direction its own random stream, both fixed by the seed. */
  impair_init(&dirs[AB], seed * 2 + 1);
  impair_init(&dirs[BA], seed * 2 + 2);
  printf("ready\n");
  fflush(stdout);

  static char commands[4096];
  size_t used = 0;
  int status = 0;
  while (!stopping) {
    uint64_t now = now_us();
    /* Packets read from A's device leave through B's, and the other way. */
    deliver(&dirs[AB], fds[BA], now);
    deliver(&dirs[BA], fds[AB], now);
    uint64_t next = impair_next_us(&dirs[AB]);
    uint64_t next_ba = impair_next_us(&dirs[BA]);
    if (next_ba < next) next = next_ba;
    struct timespec timeout;
    struct timespec* wait = NULL;
    if (next != UINT64_MAX) {
      uint64_t in = next > now ? next - now : 0;
      timeout.tv_sec = (time_t)(in / 1000000u);
      timeout.tv_nsec = (long)(in % 1000000u) * 1000;
      wait = &timeout;
    }
    struct pollfd pfd[3] = {
        {.fd = fds[AB], .events = POLLIN},
        {.fd = fds[BA], .events = POLLIN},
        {.fd = STDIN_FILENO, .events = POLLIN},
    };
    if (ppoll(pfd, 3, wait, NULL) < 0) {
      if (errno == EINTR) continue;
      perror("linkem: ppoll");
      status = 1;
      break;
    }
    if ((pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) ||
        (pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL))) {
      break; /* a device went away with its namespace */
    }
    if ((pfd[0].revents & POLLIN) && read_packets(fds[AB], &dirs[AB]) < 0) break;
    if ((pfd[1].revents & POLLIN) && read_packets(fds[BA], &dirs[BA]) < 0) break;
    if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!read_commands(commands, &used, sizeof commands, dirs)) break;
    }
  }
  impair_free(&dirs[AB]);
  impair_free(&dirs[BA]);
  close(fds[AB]);
  close(fds[BA]);
  return status;
}
