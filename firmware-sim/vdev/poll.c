/* poll/ppoll/select/pselect/epoll on virtual fds.
 *
 * Each virtual fd is a real eventfd. Its level (readable or not) is kept
 * equal to "the device has a condition someone is waiting for" (mask &
 * interest), so the real poll()/epoll_wait() blocks on it together with the
 * caller's other fds and wakes exactly when the device state changes. The
 * revents reported for virtual fds are then computed from the device state,
 * as vb2_core_poll()/v4l2_m2m_poll() would. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "snd.h"
#include "vdev.h"

atomic_int g_vfiles_open;

unsigned camera_poll_mask(struct vfile* f);
unsigned encoder_poll_mask(struct vfile* f);

unsigned vfile_poll_mask(struct vfile* f) {
  struct vdevice* d = f->dev;
  /* v4l2_poll() on an unregistered node */
  if (!d->present || f->generation != d->generation) return POLLERR | POLLHUP | POLLPRI;
  unsigned m = f->ev_len ? POLLPRI : 0;
  if (d->kind == VDEV_CAMERA)
    m |= camera_poll_mask(f);
  else if (d->kind == VDEV_ENCODER)
    m |= encoder_poll_mask(f);
  else if (d->kind == VDEV_SND_PCM)
    m |= vsnd_pcm_poll_mask(f);
  return m;
}

void vfile_update_level(struct vfile* f) {
  unsigned interest = POLLERR | POLLHUP | f->epoll_events;
  if (f->want_in) interest |= POLLIN | POLLRDNORM;
  if (f->want_out) interest |= POLLOUT | POLLWRNORM;
  if (f->want_pri) interest |= POLLPRI;
  int level = (vfile_poll_mask(f) & interest) != 0;
  if (level == f->level) return;
  uint64_t v = 1;
  if (level) {
    if (write(f->evfd, &v, sizeof(v)) != sizeof(v)) return;
  } else {
    if (real.read(f->evfd, &v, sizeof(v)) != sizeof(v)) return;
  }
  f->level = level;
}

void vdev_update_levels(struct vdevice* d) {
  for (struct vfile* f = d->files; f; f = f->next) vfile_update_level(f);
}

static void interest(struct vfile* f, short events, int delta) {
  pthread_mutex_lock(&f->dev->lock);
  if (events & (POLLIN | POLLRDNORM)) f->want_in += delta;
  if (events & (POLLOUT | POLLWRNORM)) f->want_out += delta;
  if (events & POLLPRI) f->want_pri += delta;
  vfile_update_level(f);
  pthread_mutex_unlock(&f->dev->lock);
}

static short revents_of(struct vfile* f, short events) {
  pthread_mutex_lock(&f->dev->lock);
  unsigned m = vfile_poll_mask(f);
  pthread_mutex_unlock(&f->dev->lock);
  return (short)(m & ((unsigned)(unsigned short)events | POLLERR | POLLHUP));
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* deadline < 0: wait forever */
static int vpoll(struct pollfd* fds, nfds_t n, int64_t deadline, const sigset_t* sigmask) {
  struct vfile* fs[n ? n : 1];
  struct pollfd copy[n ? n : 1];
  for (nfds_t i = 0; i < n; i++) fs[i] = fd_get(fds[i].fd);
  int result;
  for (;;) {
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
      copy[i] = fds[i];
      copy[i].revents = 0;
      if (fs[i]) {
        interest(fs[i], fds[i].events, +1);
        copy[i].events = POLLIN;
        if (revents_of(fs[i], fds[i].events)) ready++;
      }
    }
    struct timespec ts, *tp = NULL;
    if (ready || deadline >= 0) {
      int64_t left = ready ? 0 : deadline - now_ns();
      if (left < 0) left = 0;
      ts.tv_sec = left / 1000000000;
      ts.tv_nsec = left % 1000000000;
      tp = &ts;
    }
    int r = real.ppoll(copy, n, tp, sigmask);
    int err = errno;
    int total = 0;
    for (nfds_t i = 0; i < n; i++) {
      if (fs[i]) {
        interest(fs[i], fds[i].events, -1);
        fds[i].revents = r < 0 ? 0 : revents_of(fs[i], fds[i].events);
      } else {
        fds[i].revents = copy[i].revents;
      }
      if (fds[i].revents) total++;
    }
    if (r < 0) {
      errno = err;
      result = -1;
      break;
    }
    if (total || (deadline >= 0 && now_ns() >= deadline)) {
      result = total;
      break;
    }
    if (r > 0) { /* readable for another waiter's condition: do not spin */
      struct timespec nap = {0, 1000000};
      nanosleep(&nap, NULL);
    }
  }
  for (nfds_t i = 0; i < n; i++)
    if (fs[i]) fd_put(fs[i]);
  return result;
}

static int any_virtual(const struct pollfd* fds, nfds_t n) {
  if (atomic_load_explicit(&g_vfiles_open, memory_order_relaxed) == 0) return 0;
  for (nfds_t i = 0; i < n; i++) {
    struct vfile* f = fd_get(fds[i].fd);
    if (f) {
      fd_put(f);
      return 1;
    }
  }
  return 0;
}

static int64_t deadline_ms(int timeout) {
  return timeout < 0 ? -1 : now_ns() + (int64_t)timeout * 1000000;
}

static int64_t deadline_ts(const struct timespec* t) {
  return t ? now_ns() + (int64_t)t->tv_sec * 1000000000 + t->tv_nsec : -1;
}

int poll(struct pollfd* fds, nfds_t n, int timeout) {
  if (!real.poll) real_init();
  if (!any_virtual(fds, n)) return real.poll(fds, n, timeout);
  return vpoll(fds, n, deadline_ms(timeout), NULL);
}

int __poll_chk(struct pollfd* fds, nfds_t n, int timeout, size_t fdslen) {
  (void)fdslen;
  return poll(fds, n, timeout);
}

int ppoll(struct pollfd* fds, nfds_t n, const struct timespec* t, const sigset_t* sigmask) {
  if (!real.ppoll) real_init();
  if (!any_virtual(fds, n)) return real.ppoll(fds, n, t, sigmask);
  return vpoll(fds, n, deadline_ts(t), sigmask);
}

int __ppoll_chk(struct pollfd* fds, nfds_t n, const struct timespec* t, const sigset_t* sigmask,
                size_t fdslen) {
  (void)fdslen;
  return ppoll(fds, n, t, sigmask);
}

/* select() is poll() with bitmaps. */
static int vselect(int nfds, fd_set* r, fd_set* w, fd_set* e, int64_t deadline,
                   const sigset_t* sigmask) {
  struct pollfd* p = calloc((size_t)(nfds > 0 ? nfds : 1), sizeof(*p));
  if (!p) {
    errno = ENOMEM;
    return -1;
  }
  nfds_t n = 0;
  for (int fd = 0; fd < nfds; fd++) {
    short ev = 0;
    if (r && FD_ISSET(fd, r)) ev |= POLLIN;
    if (w && FD_ISSET(fd, w)) ev |= POLLOUT;
    if (e && FD_ISSET(fd, e)) ev |= POLLPRI;
    if (!ev) continue;
    p[n].fd = fd;
    p[n].events = ev;
    n++;
  }
  int rc = vpoll(p, n, deadline, sigmask);
  if (rc < 0) {
    free(p);
    return rc;
  }
  if (r) FD_ZERO(r);
  if (w) FD_ZERO(w);
  if (e) FD_ZERO(e);
  int count = 0;
  for (nfds_t i = 0; i < n; i++) {
    short re = p[i].revents;
    /* select() reports POLLERR/POLLHUP as readable/writable, as the kernel's do_select does */
    if (r && (p[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
      FD_SET(p[i].fd, r);
      count++;
    }
    if (w && (p[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
      FD_SET(p[i].fd, w);
      count++;
    }
    if (e && (p[i].events & POLLPRI) && (re & POLLPRI)) {
      FD_SET(p[i].fd, e);
      count++;
    }
  }
  free(p);
  return count;
}

static int sets_virtual(int nfds, fd_set* r, fd_set* w, fd_set* e) {
  if (atomic_load_explicit(&g_vfiles_open, memory_order_relaxed) == 0) return 0;
  for (int fd = 0; fd < nfds; fd++) {
    if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))) {
      struct vfile* f = fd_get(fd);
      if (f) {
        fd_put(f);
        return 1;
      }
    }
  }
  return 0;
}

int select(int nfds, fd_set* r, fd_set* w, fd_set* e, struct timeval* tv) {
  if (!real.select) real_init();
  if (!sets_virtual(nfds, r, w, e)) return real.select(nfds, r, w, e, tv);
  int64_t dl = tv ? now_ns() + (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000 : -1;
  int rc = vselect(nfds, r, w, e, dl, NULL);
  if (tv) { /* Linux select() updates the timeout */
    int64_t left = dl - now_ns();
    if (left < 0) left = 0;
    tv->tv_sec = left / 1000000000;
    tv->tv_usec = (left % 1000000000) / 1000;
  }
  return rc;
}

int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const struct timespec* t,
            const sigset_t* sigmask) {
  if (!real.pselect) real_init();
  if (!sets_virtual(nfds, r, w, e)) return real.pselect(nfds, r, w, e, t, sigmask);
  return vselect(nfds, r, w, e, deadline_ts(t), sigmask);
}

/* ---- epoll ---- */

struct ereg {
  int epfd, fd;
  struct vfile* f;
  uint32_t events;
  uint64_t data;
  struct ereg* next;
};
static struct ereg* eregs;
static atomic_int neregs;
static pthread_mutex_t ereg_lock = PTHREAD_MUTEX_INITIALIZER;

static void recompute_epoll_interest(struct vfile* f) {
  uint32_t ev = 0;
  for (struct ereg* r = eregs; r; r = r->next)
    if (r->f == f) ev |= r->events;
  pthread_mutex_lock(&f->dev->lock);
  f->epoll_events = ev & (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDNORM | EPOLLWRNORM);
  vfile_update_level(f);
  pthread_mutex_unlock(&f->dev->lock);
}

void epoll_forget(struct vfile* f) {
  if (atomic_load(&neregs) == 0) return;
  pthread_mutex_lock(&ereg_lock);
  for (struct ereg** p = &eregs; *p;) {
    if ((*p)->f == f) {
      struct ereg* r = *p;
      *p = r->next;
      free(r);
      atomic_fetch_sub(&neregs, 1);
    } else {
      p = &(*p)->next;
    }
  }
  pthread_mutex_unlock(&ereg_lock);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event* ev) {
  if (!real.epoll_ctl) real_init();
  struct vfile* f = fd_get(fd);
  if (!f) return real.epoll_ctl(epfd, op, fd, ev);
  struct epoll_event real_ev = {.events = EPOLLIN, .data = ev ? ev->data : (epoll_data_t){0}};
  int r = real.epoll_ctl(epfd, op, fd, op == EPOLL_CTL_DEL ? ev : &real_ev);
  if (r == 0) {
    pthread_mutex_lock(&ereg_lock);
    struct ereg** p = &eregs;
    while (*p && !((*p)->epfd == epfd && (*p)->fd == fd)) p = &(*p)->next;
    if (op == EPOLL_CTL_DEL) {
      if (*p) {
        struct ereg* old = *p;
        *p = old->next;
        free(old);
        atomic_fetch_sub(&neregs, 1);
      }
    } else {
      struct ereg* e = *p;
      if (!e && (e = calloc(1, sizeof(*e)))) {
        e->next = eregs;
        eregs = e;
        atomic_fetch_add(&neregs, 1);
      }
      if (e) {
        e->epfd = epfd;
        e->fd = fd;
        e->f = f;
        e->events = ev->events;
        e->data = ev->data.u64;
      }
    }
    recompute_epoll_interest(f);
    pthread_mutex_unlock(&ereg_lock);
  }
  fd_put(f);
  return r;
}

/* Drop events whose device condition is not one the caller asked for. */
static int filter_events(int epfd, struct epoll_event* evs, int n) {
  int out = 0;
  pthread_mutex_lock(&ereg_lock);
  for (int i = 0; i < n; i++) {
    struct ereg* r = eregs;
    while (r && !(r->epfd == epfd && r->data == evs[i].data.u64)) r = r->next;
    if (r) {
      struct vfile* f = fd_get(r->fd);
      uint32_t m = 0;
      if (f) {
        pthread_mutex_lock(&f->dev->lock);
        m = vfile_poll_mask(f) & (r->events | EPOLLERR | EPOLLHUP);
        pthread_mutex_unlock(&f->dev->lock);
        fd_put(f);
      }
      if (!m) continue;
      evs[i].events = m;
    }
    evs[out++] = evs[i];
  }
  pthread_mutex_unlock(&ereg_lock);
  return out;
}

int epoll_pwait(int epfd, struct epoll_event* evs, int max, int timeout, const sigset_t* sm) {
  if (!real.epoll_pwait) real_init();
  if (atomic_load_explicit(&neregs, memory_order_relaxed) == 0)
    return real.epoll_pwait(epfd, evs, max, timeout, sm);
  int64_t dl = deadline_ms(timeout);
  for (;;) {
    int left = timeout < 0 ? -1 : (int)((dl - now_ns() + 999999) / 1000000);
    if (timeout >= 0 && left < 0) left = 0;
    int r = real.epoll_pwait(epfd, evs, max, left, sm);
    if (r <= 0) return r;
    r = filter_events(epfd, evs, r);
    if (r > 0 || (timeout >= 0 && now_ns() >= dl)) return r;
    /* the eventfd was readable for a condition this epoll set does not want */
    struct timespec nap = {0, 1000000};
    nanosleep(&nap, NULL);
  }
}

int epoll_wait(int epfd, struct epoll_event* evs, int max, int timeout) {
  return epoll_pwait(epfd, evs, max, timeout, NULL);
}
