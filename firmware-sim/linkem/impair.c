#include "impair.h"

#include <stdlib.h>
#include <string.h>

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, and one seed gives one sequence. */
static uint64_t next_random(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* True with probability ppm / 1e6. */
static int chance(uint64_t* state, uint32_t ppm) {
  if (ppm == 0) return 0;
  return next_random(state) % 1000000u < ppm;
}

void impair_init(struct impair* d, uint64_t seed) {
  memset(d, 0, sizeof *d);
  d->rng = seed;
}

void impair_set(struct impair* d, const struct impair_params* p) {
  d->params = *p;
  /* No loss any more: leave the bad state now rather than at r's pace. */
  if (p->ge_p_ppm == 0) d->bad = 0;
}

static void append(struct impair* d, struct packet* pkt) {
  /* In order, as through one queue: jitter never lets a packet pass an earlier one. */
  if (pkt->due_us < d->last_due_us) pkt->due_us = d->last_due_us;
  d->last_due_us = pkt->due_us;
  pkt->next = NULL;
  if (d->tail) {
    d->tail->next = pkt;
  } else {
    d->head = pkt;
  }
  d->tail = pkt;
  d->count++;
}

static void release_held(struct impair* d) {
  struct packet* held = d->held;
  d->held = NULL;
  append(d, held);
}

/* Gilbert-Elliott step: move between states, then lose the packet in the bad one. */
static int lose(struct impair* d) {
  const struct impair_params* p = &d->params;
  if (d->bad) {
    if (chance(&d->rng, p->ge_r_ppm)) d->bad = 0;
  } else {
    if (chance(&d->rng, p->ge_p_ppm)) d->bad = 1;
  }
  return d->bad;
}

static uint64_t jittered_delay(struct impair* d) {
  const struct impair_params* p = &d->params;
  if (p->jitter_us == 0) return p->delay_us;
  uint64_t span = 2 * p->jitter_us + 1;
  int64_t offset = (int64_t)(next_random(&d->rng) % span) - (int64_t)p->jitter_us;
  int64_t delay = (int64_t)p->delay_us + offset;
  return delay < 0 ? 0 : (uint64_t)delay;
}

void impair_input(struct impair* d, const unsigned char* data, size_t len, uint64_t now_us) {
  const struct impair_params* p = &d->params;
  d->stats.in++;
  d->stats.in_bytes += len;
  if (p->down) {
    d->stats.down_drops++;
    return;
  }
  /* Loss is decided for every packet so the chain's state advances with traffic. */
  if (p->ge_p_ppm != 0 && lose(d)) {
    d->stats.lost++;
    return;
  }
  uint64_t sent_us = now_us;
  if (p->rate_bps > 0) {
    /* A FIFO drained at rate_bps (tbf without a burst): the packet starts
     * when the ones before it are through; a backlog over queue_us is a
     * full queue and the packet is tail-dropped. */
    uint64_t start = d->link_free_us > now_us ? d->link_free_us : now_us;
    if (start - now_us > p->queue_us) {
      d->stats.queue_drops++;
      return;
    }
    d->link_free_us = start + (uint64_t)len * 8u * 1000000u / p->rate_bps;
    sent_us = d->link_free_us;
  }
  if (d->count + (d->held != NULL) >= IMPAIR_MAX_HELD) {
    d->stats.overflow++;
    return;
  }
  struct packet* pkt = malloc(sizeof *pkt + len);
  if (!pkt) {
    d->stats.overflow++;
    return;
  }
  memcpy(pkt->data, data, len);
  pkt->len = len;
  pkt->due_us = sent_us + jittered_delay(d);
  if (d->held) {
    /* This packet overtakes the held one, which follows right behind it. */
    append(d, pkt);
    release_held(d);
    d->stats.reordered++;
    return;
  }
  if (chance(&d->rng, p->reorder_ppm)) {
    d->held = pkt;
    d->held_until_us = now_us + IMPAIR_REORDER_HOLD_US;
    return;
  }
  append(d, pkt);
}

uint64_t impair_next_us(const struct impair* d) {
  uint64_t next = d->head ? d->head->due_us : UINT64_MAX;
  if (d->held && d->held_until_us < next) next = d->held_until_us;
  return next;
}

struct packet* impair_pop_due(struct impair* d, uint64_t now_us) {
  /* Nothing overtook the held packet in time: it goes on in its turn. */
  if (d->held && d->held_until_us <= now_us) release_held(d);
  struct packet* pkt = d->head;
  if (!pkt || pkt->due_us > now_us) return NULL;
  d->head = pkt->next;
  if (!d->head) d->tail = NULL;
  d->count--;
  return pkt;
}

void impair_free(struct impair* d) {
  while (d->head) {
    struct packet* next = d->head->next;
    free(d->head);
    d->head = next;
  }
  d->tail = NULL;
  free(d->held);
  d->held = NULL;
  d->count = 0;
}
