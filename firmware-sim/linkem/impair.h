/*
 * One direction of an emulated link: what happens to each packet between
 * the moment it leaves one namespace and the moment it enters the other.
 *
 * The order is netem's (linux/net/sched/sch_netem.c): loss first, then the
 * bottleneck queue, then propagation delay with jitter, then reordering.
 * All times are CLOCK_MONOTONIC microseconds.
 */
#ifndef LINKEM_IMPAIR_H
#define LINKEM_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parameters, as the lab's control language resolves them (all integers,
 * probabilities in parts per million). Loss is a two-state Gilbert-Elliott
 * chain with total loss in the bad state and none in the good state:
 * p = P(good -> bad), r = P(bad -> good) per packet. Independent (Bernoulli)
 * loss of probability L is p = L, r = 1 - L.
 */
struct impair_params {
  uint32_t ge_p_ppm;
  uint32_t ge_r_ppm;
  uint64_t rate_bps;    /* 0: no bandwidth cap */
  uint64_t queue_us;    /* the cap's queue, as time at the rate (tbf's "latency") */
  uint64_t delay_us;    /* one-way propagation delay */
  uint64_t jitter_us;   /* delay varies uniformly in [delay - jitter, delay + jitter] */
  uint32_t reorder_ppm; /* a chosen packet is delivered after the next one */
  int down;             /* 1: every packet is dropped (a cut link) */
};

struct impair_stats {
  uint64_t in, in_bytes;
  uint64_t lost;        /* the loss model */
  uint64_t queue_drops; /* the bottleneck queue was full */
  uint64_t down_drops;  /* the link was down */
  uint64_t overflow;    /* more than IMPAIR_MAX_HELD packets in flight */
  uint64_t reordered;
  uint64_t out, out_bytes;
  uint64_t tx_errors; /* the receiving device refused the packet (e.g. it is down) */
};

struct packet {
  struct packet* next;
  uint64_t due_us;
  size_t len;
  unsigned char data[];
};

/* Packets in flight per direction; beyond it new ones are dropped (overflow). */
#define IMPAIR_MAX_HELD 65536
/* A packet held for reordering waits at most this long for one to overtake it. */
#define IMPAIR_REORDER_HOLD_US 100000

struct impair {
  struct impair_params params;
  struct impair_stats stats;
  uint64_t rng;
  int bad;               /* Gilbert-Elliott state */
  uint64_t link_free_us; /* when the bottleneck finishes sending what it has */
  uint64_t last_due_us;  /* delivery stays in order, as through a real queue */
  struct packet* head;
  struct packet* tail;
  size_t count;
  struct packet* held; /* waiting to be overtaken */
  uint64_t held_until_us;
};

void impair_init(struct impair* d, uint64_t seed);
void impair_set(struct impair* d, const struct impair_params* p);
/* Takes a packet read at now_us; copies it when it is kept. */
void impair_input(struct impair* d, const unsigned char* data, size_t len, uint64_t now_us);
/* The time the next packet is due (or a held one must be released), UINT64_MAX if none. */
uint64_t impair_next_us(const struct impair* d);
/* Removes and returns the first packet due at now_us, or NULL; the caller frees it. */
struct packet* impair_pop_due(struct impair* d, uint64_t now_us);
void impair_free(struct impair* d);

#endif
