/* fd -> open virtual file table.
 *
 * The process holds a real fd for every open of a virtual node (a dup of the
 * file's eventfd), so the fd table, close-on-exec, dup() and poll() work as
 * for a character device. This table maps those fds to their vfile. The
 * pass-through path (every ioctl/close/read Node makes) costs one relaxed
 * atomic load; the mutex is taken only for virtual fds. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "real.h"
#include "vdev.h"

static _Atomic(struct vfile*) table[VDEV_MAX_FDS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

struct vfile* fd_get(int fd) {
  if (fd < 0 || fd >= VDEV_MAX_FDS) return NULL;
  if (atomic_load_explicit(&table[fd], memory_order_relaxed) == NULL) return NULL;
  pthread_mutex_lock(&table_lock);
  struct vfile* f = atomic_load(&table[fd]);
  if (f) f->refs++;
  pthread_mutex_unlock(&table_lock);
  return f;
}

void fd_put(struct vfile* f) {
  pthread_mutex_lock(&table_lock);
  int last = --f->refs == 0;
  pthread_mutex_unlock(&table_lock);
  if (last) vfile_release(f);
}

void fd_set_vfile(int fd, struct vfile* f) {
  if (fd < 0 || fd >= VDEV_MAX_FDS) return;
  pthread_mutex_lock(&table_lock);
  struct vfile* old = atomic_load(&table[fd]);
  f->refs++;
  atomic_store(&table[fd], f);
  int last = old && --old->refs == 0;
  pthread_mutex_unlock(&table_lock);
  if (last) vfile_release(old);
}

struct vfile* fd_take(int fd) {
  if (fd < 0 || fd >= VDEV_MAX_FDS) return NULL;
  if (atomic_load_explicit(&table[fd], memory_order_relaxed) == NULL) return NULL;
  pthread_mutex_lock(&table_lock);
  struct vfile* f = atomic_exchange(&table[fd], NULL);
  pthread_mutex_unlock(&table_lock);
  return f;
}
