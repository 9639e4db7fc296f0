/* Buffer queues, after videobuf2 (videobuf2-core.c / videobuf2-v4l2.c).
 *
 * MMAP buffers live in memfds: the process maps them at the QUERYBUF offset,
 * the device fills them through its own mapping, and EXPBUF hands out a dup of
 * the memfd, a real fd that another device imports as a DMABUF. Buffers may
 * be freed while still mapped (V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS): the
 * mapping keeps the memfd's pages alive. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "real.h"
#include "vdev.h"

static size_t page_align(size_t n) { return (n + VDEV_PAGE - 1) & ~(size_t)(VDEV_PAGE - 1); }

int vq_is_mplane(const struct vqueue* q) { return V4L2_TYPE_IS_MULTIPLANAR(q->type); }

void vq_init(struct vqueue* q, uint32_t type, uint32_t io_modes, uint32_t off_base,
             uint32_t ts_flags, uint32_t min_bufs) {
  memset(q, 0, sizeof(*q));
  q->type = type;
  q->io_modes = io_modes;
  q->off_base = off_base;
  q->ts_flags = ts_flags;
  q->min_bufs = min_bufs;
  q->field = V4L2_FIELD_NONE;
}

static uint32_t caps(const struct vqueue* q) {
  return q->io_modes | V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
}

static int memory_ok(const struct vqueue* q, uint32_t memory) {
  return (memory == V4L2_MEMORY_MMAP && (q->io_modes & V4L2_BUF_CAP_SUPPORTS_MMAP)) ||
         (memory == V4L2_MEMORY_DMABUF && (q->io_modes & V4L2_BUF_CAP_SUPPORTS_DMABUF));
}

/* vb2_queue_is_busy(): another file handle owns the queue */
int vq_owner_check(struct vqueue* q, struct vfile* f) {
  return q->owner && q->owner != f ? EBUSY : 0;
}

static void unimport(struct vbuf* b) {
  if (b->dmafd >= 0 && b->kmap) real.munmap(b->kmap, b->dma_len);
  if (b->dmafd >= 0) real.close(b->dmafd);
  b->dmafd = -1;
  b->kmap = NULL;
  b->dma_len = 0;
}

void vq_free(struct vqueue* q) {
  for (uint32_t i = 0; i < q->count; i++) {
    struct vbuf* b = &q->bufs[i];
    if (q->memory == V4L2_MEMORY_MMAP) {
      if (b->kmap) real.munmap(b->kmap, b->length);
      if (b->memfd >= 0) real.close(b->memfd);
    } else {
      unimport(b);
    }
  }
  q->count = 0;
  q->qlen = q->dlen = q->qhead = q->dhead = 0;
}

/* Appends n buffers of `size` bytes, each at its own mmap offset (vb2 lays
 * the offsets out one after the other, page aligned). */
static int add_buffers(struct vqueue* q, uint32_t n, uint32_t size) {
  size_t len = page_align(size);
  for (uint32_t k = 0; k < n; k++) {
    uint32_t i = q->count;
    struct vbuf* b = &q->bufs[i];
    memset(b, 0, sizeof(*b));
    b->index = i;
    b->memfd = b->dmafd = b->userfd = -1;
    b->length = q->memory == V4L2_MEMORY_MMAP ? len : size;
    b->offset =
        i ? q->bufs[i - 1].offset + (uint32_t)page_align(q->bufs[i - 1].length) : q->off_base;
    if (q->memory == V4L2_MEMORY_MMAP) {
      b->memfd = memfd_create("camgw-vb2", MFD_CLOEXEC);
      if (b->memfd < 0 || ftruncate(b->memfd, (off_t)len) != 0) {
        if (b->memfd >= 0) real.close(b->memfd);
        return ENOMEM;
      }
      b->kmap = real.mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
      if (b->kmap == MAP_FAILED) {
        real.close(b->memfd);
        return ENOMEM;
      }
    }
    q->count = i + 1;
  }
  return 0;
}

int vq_reqbufs(struct vqueue* q, struct vfile* f, struct v4l2_requestbuffers* r) {
  if (r->type != q->type) return EINVAL;
  r->capabilities = caps(q);
  r->flags = 0;
  if (!memory_ok(q, r->memory)) return EINVAL;
  int err = vq_owner_check(q, f);
  if (err) return err;
  if (q->streaming) return EBUSY;
  vq_free(q);
  q->owner = NULL;
  if (r->count == 0) return 0;
  uint32_t n = r->count < q->min_bufs ? q->min_bufs : r->count;
  if (n > VDEV_MAX_BUFS) n = VDEV_MAX_BUFS;
  q->memory = r->memory;
  int err2 = add_buffers(q, n, q->sizeimage);
  if (err2) {
    vq_free(q);
    return err2;
  }
  q->owner = f;
  r->count = n;
  return 0;
}

/* VIDIOC_CREATE_BUFS (vb2_create_bufs): append buffers of at least the given
 * format's size; count 0 only reports where they would start. */
int vq_create_bufs(struct vqueue* q, struct vfile* f, struct v4l2_create_buffers* c,
                   uint32_t sizeimage) {
  c->capabilities = caps(q);
  c->flags = 0;
  memset(c->reserved, 0, sizeof(c->reserved));
  c->index = q->count;
  if (c->format.type != q->type || !memory_ok(q, c->memory)) return EINVAL;
  int err = vq_owner_check(q, f);
  if (err) return err;
  if (q->count && c->memory != q->memory) return EINVAL;
  if (c->count == 0) return 0;
  if (sizeimage < q->sizeimage) return EINVAL; /* smaller than the current format needs */
  uint32_t n = c->count;
  if (n > VDEV_MAX_BUFS - q->count) n = VDEV_MAX_BUFS - q->count;
  if (n == 0) return ENOBUFS;
  q->memory = c->memory;
  uint32_t before = q->count;
  if ((err = add_buffers(q, n, sizeimage))) return err;
  q->owner = f;
  c->count = q->count - before;
  return 0;
}

static uint32_t offset_of(const struct vqueue* q, uint32_t i) { return q->bufs[i].offset; }

struct vbuf* vq_find_offset(struct vqueue* q, uint64_t off) {
  if (q->memory != V4L2_MEMORY_MMAP) return NULL;
  for (uint32_t i = 0; i < q->count; i++)
    if (offset_of(q, i) == off) return &q->bufs[i];
  return NULL;
}

static void fill(const struct vqueue* q, const struct vbuf* b, struct v4l2_buffer* v) {
  struct v4l2_plane* planes = v->m.planes;
  uint32_t nplanes = v->length;
  v->index = b->index;
  v->type = q->type;
  v->memory = q->memory;
  v->flags = q->ts_flags | V4L2_BUF_FLAG_TSTAMP_SRC_EOF;
  if (b->state == VB_QUEUED || b->state == VB_ACTIVE) v->flags |= V4L2_BUF_FLAG_QUEUED;
  if (b->state == VB_DONE) v->flags |= V4L2_BUF_FLAG_DONE;
  if (b->state == VB_DONE || b->state == VB_DEQUEUED) v->flags |= b->flags;
  v->field = q->field;
  v->timestamp = b->timestamp;
  memset(&v->timecode, 0, sizeof(v->timecode));
  v->sequence = b->sequence;
  v->reserved2 = 0;
  v->request_fd = 0;
  if (vq_is_mplane(q)) {
    v->length = 1;
    if (planes && nplanes >= 1) {
      memset(&planes[0], 0, sizeof(planes[0]));
      planes[0].bytesused = b->bytesused;
      planes[0].length = (uint32_t)b->length;
      if (q->memory == V4L2_MEMORY_MMAP)
        planes[0].m.mem_offset = offset_of(q, b->index);
      else
        planes[0].m.fd = b->userfd;
    }
  } else {
    v->bytesused = b->bytesused;
    v->length = (uint32_t)b->length;
    if (q->memory == V4L2_MEMORY_MMAP)
      v->m.offset = offset_of(q, b->index);
    else
      v->m.fd = b->userfd;
  }
}

static int check_buf(const struct vqueue* q, const struct v4l2_buffer* v) {
  if (v->type != q->type) return EINVAL;
  if (v->index >= q->count) return EINVAL;
  if (vq_is_mplane(q) && (!v->m.planes || v->length < 1 || v->length > VIDEO_MAX_PLANES))
    return EINVAL;
  return 0;
}

int vq_querybuf(struct vqueue* q, struct v4l2_buffer* v) {
  int err = check_buf(q, v);
  if (err) return err;
  fill(q, &q->bufs[v->index], v);
  return 0;
}

/* DMABUF import: map the exporter's buffer (a memfd, or any mappable fd).
 * The mapping is kept while the same buffer is queued again at this index,
 * as vb2 keeps a dmabuf attached. */
static int import(struct vqueue* q, struct vbuf* b, int fd) {
  struct stat st;
  if (fd < 0 || real.fstat(fd, &st) != 0) return EINVAL;
  if (b->dmafd >= 0 && st.st_dev == b->dma_dev && st.st_ino == b->dma_ino) {
    b->userfd = fd;
    return 0;
  }
  unimport(b);
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < (off_t)q->sizeimage) return EINVAL; /* vb2: dmabuf smaller than the plane */
  int dup = real.fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return EINVAL;
  void* m = real.mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, dup, 0);
  if (m == MAP_FAILED) m = real.mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, dup, 0);
  if (m == MAP_FAILED) {
    real.close(dup);
    return EINVAL;
  }
  b->dmafd = dup;
  b->kmap = m;
  b->dma_len = (size_t)size;
  b->dma_dev = st.st_dev;
  b->dma_ino = st.st_ino;
  b->userfd = fd;
  return 0;
}

int vq_qbuf(struct vqueue* q, struct vfile* f, struct v4l2_buffer* v) {
  int err = vq_owner_check(q, f);
  if (err) return err;
  if (!q->count) return EINVAL;
  if ((err = check_buf(q, v))) return err;
  if (v->memory != q->memory) return EINVAL;
  struct vbuf* b = &q->bufs[v->index];
  if (b->state != VB_DEQUEUED) return EINVAL;
  if (q->memory == V4L2_MEMORY_DMABUF) {
    int fd = vq_is_mplane(q) ? v->m.planes[0].m.fd : v->m.fd;
    if ((err = import(q, b, fd))) return err;
  }
  if (V4L2_TYPE_IS_OUTPUT(q->type)) {
    uint32_t used = vq_is_mplane(q) ? v->m.planes[0].bytesused : v->bytesused;
    if (used == 0) used = (uint32_t)b->length; /* vb2: 0 means the whole buffer (deprecated) */
    if (used > b->length) return EINVAL;
    /* __verify_length(): the payload must start inside the bytes used */
    if (vq_is_mplane(q) && v->m.planes[0].data_offset && v->m.planes[0].data_offset >= used)
      return EINVAL;
    b->bytesused = used;
    b->timestamp = v->timestamp; /* copied to the CAPTURE buffer (TIMESTAMP_COPY) */
    b->flags = v->flags & (V4L2_BUF_FLAG_TIMECODE | V4L2_BUF_FLAG_KEYFRAME);
  } else {
    b->bytesused = 0;
    b->flags = 0;
  }
  b->state = VB_QUEUED;
  q->queued[(q->qhead + q->qlen) % VDEV_MAX_BUFS] = b->index;
  q->qlen++;
  fill(q, b, v);
  pthread_cond_broadcast(&f->dev->cond);
  return 0;
}

struct vbuf* vq_take_queued(struct vqueue* q) {
  if (!q->qlen) return NULL;
  struct vbuf* b = &q->bufs[q->queued[q->qhead]];
  q->qhead = (q->qhead + 1) % VDEV_MAX_BUFS;
  q->qlen--;
  b->state = VB_ACTIVE;
  return b;
}

void vq_complete(struct vqueue* q, struct vbuf* b) {
  b->state = VB_DONE;
  q->done[(q->dhead + q->dlen) % VDEV_MAX_BUFS] = b->index;
  q->dlen++;
}

int vq_dqbuf(struct vqueue* q, struct vfile* f, struct v4l2_buffer* v, int nonblock) {
  struct vdevice* d = f->dev;
  int err = vq_owner_check(q, f);
  if (err) return err;
  if (v->type != q->type) return EINVAL;
  if (vq_is_mplane(q) && (!v->m.planes || v->length < 1)) return EINVAL;
  for (;;) {
    if (!d->present || f->generation != d->generation) return ENODEV;
    if (!q->streaming) return EINVAL;
    if (q->dlen) break;
    if (q->last_dequeued) return EPIPE; /* stateful codec: nothing after the LAST buffer */
    if (nonblock) return EAGAIN;
    pthread_cond_wait(&d->cond, &d->lock);
  }
  struct vbuf* b = &q->bufs[q->done[q->dhead]];
  q->dhead = (q->dhead + 1) % VDEV_MAX_BUFS;
  q->dlen--;
  b->state = VB_DEQUEUED;
  if (b->flags & V4L2_BUF_FLAG_LAST) q->last_dequeued = 1;
  v->memory = q->memory;
  fill(q, b, v);
  vdev_update_levels(d);
  return 0;
}

int vq_expbuf(struct vqueue* q, struct v4l2_exportbuffer* e) {
  if (e->type != q->type || e->index >= q->count || e->plane != 0) return EINVAL;
  if (q->memory != V4L2_MEMORY_MMAP) return EINVAL;
  if (e->flags & ~(uint32_t)(O_CLOEXEC | O_ACCMODE)) return EINVAL;
  int fd =
      real.fcntl(q->bufs[e->index].memfd, (e->flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
  if (fd < 0) return errno;
  e->fd = fd;
  return 0;
}

int vq_streamon(struct vqueue* q, struct vfile* f) {
  int err = vq_owner_check(q, f);
  if (err) return err;
  if (!q->count) return EINVAL;
  if (q->streaming) return 0;
  q->streaming = 1;
  q->sequence = 0;
  q->last_dequeued = 0;
  return 0;
}

/* __vb2_queue_cancel(): every buffer goes back to the application */
int vq_streamoff(struct vqueue* q, struct vfile* f) {
  int err = vq_owner_check(q, f);
  if (err) return err;
  q->streaming = 0;
  q->last_dequeued = 0;
  q->qlen = q->dlen = q->qhead = q->dhead = 0;
  for (uint32_t i = 0; i < q->count; i++) {
    q->bufs[i].state = VB_DEQUEUED;
    q->bufs[i].flags = 0;
  }
  pthread_cond_broadcast(&f->dev->cond);
  return 0;
}
