/* The virtual board's shared types: devices, open files, buffer queues.
 *
 * The model follows the kernel: a `vdevice` is a registered video node
 * (struct video_device), a `vfile` is an open file description (struct file +
 * v4l2_fh; dup()ed fds share it), and a `vqueue` is a videobuf2 queue. Every
 * vdevice has one mutex; all ioctls on it and its worker threads take it. */
#ifndef CAMGW_VDEV_H
#define CAMGW_VDEV_H

#include <linux/videodev2.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define VDEV_MAX_BUFS 32
#define VDEV_MAX_FDS 65536
#define VDEV_MAX_SUBS 32
#define VDEV_MAX_EVENTS 32
#define VDEV_PAGE 4096u
/* vb2 puts the CAPTURE queue of an m2m device at this mmap offset
 * (DST_QUEUE_OFF_BASE in v4l2-mem2mem.c) so both queues share one offset space. */
#define VDEV_DST_OFF_BASE (1u << 30)

/* VDEV_SND_*: the sound card's control and PCM nodes (snd.h) */
enum vdev_kind { VDEV_CAMERA, VDEV_ENCODER, VDEV_MEDIA, VDEV_SND_CTL, VDEV_SND_PCM };

enum vbuf_state { VB_DEQUEUED, VB_QUEUED, VB_ACTIVE, VB_DONE };

struct vbuf {
  uint32_t index;
  enum vbuf_state state;
  int memfd;       /* MMAP backing store (memfd), also what EXPBUF duplicates */
  uint8_t* kmap;   /* the "kernel" mapping of the buffer, MMAP or imported DMABUF */
  size_t length;   /* plane length */
  uint32_t offset; /* mmap offset cookie (QUERYBUF m.offset / mem_offset) */
  uint32_t bytesused;
  uint32_t flags; /* V4L2_BUF_FLAG_KEYFRAME / ERROR / LAST etc. set on completion */
  uint32_t sequence;
  struct timeval timestamp;
  int mapcount;  /* user mappings alive (V4L2_BUF_FLAG_MAPPED) */
  int dmafd;     /* DMABUF: our private dup of the importer's fd */
  int userfd;    /* DMABUF: the fd number the application queued (reported back) */
  dev_t dma_dev; /* identity of the imported buffer, to reuse the mapping */
  ino_t dma_ino;
  size_t dma_len;
};

struct vqueue {
  uint32_t type;
  uint32_t memory;
  uint32_t count;
  uint32_t io_modes; /* V4L2_BUF_CAP_SUPPORTS_* this queue accepts */
  uint32_t off_base;
  uint32_t ts_flags; /* V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC or _COPY */
  uint32_t min_bufs;
  uint32_t sizeimage; /* current format's plane size: buffers are at least this big */
  uint32_t field;
  struct vfile* owner;
  int streaming;
  int last_dequeued; /* m2m CAPTURE: a LAST buffer went out (V4L2 stateful codec spec) */
  struct vbuf bufs[VDEV_MAX_BUFS];
  uint32_t queued[VDEV_MAX_BUFS];
  uint32_t qhead, qlen;
  uint32_t done[VDEV_MAX_BUFS];
  uint32_t dhead, dlen;
  uint32_t sequence;
};

struct vdevice;
struct enc_ctx;

struct vsub {
  uint32_t type, id, flags;
};

struct vfile {
  int refs; /* fds sharing this open file (dup) */
  struct vdevice* dev;
  int evfd;            /* the real fd the process holds: an eventfd whose level mirrors readiness */
  uint32_t generation; /* device generation at open: stale after an unplug */
  enum v4l2_priority prio;
  struct enc_ctx* enc; /* encoder instance (one per open, like v4l2_m2m_ctx) */
  struct vsub subs[VDEV_MAX_SUBS];
  int nsubs;
  struct v4l2_event events[VDEV_MAX_EVENTS];
  uint32_t ev_head, ev_len, ev_seq;
  int want_in, want_out, want_pri; /* poll()/select() callers blocked on this file */
  uint32_t epoll_events;           /* interest registered through epoll_ctl */
  int level;                       /* current eventfd level (0/1) */
  struct vfile* next;              /* device's list of open files */
};

struct vdevice {
  enum vdev_kind kind;
  int num;   /* N of /dev/videoN */
  int major; /* char device major:minor (81 for video nodes) */
  int minor;
  char path[32];
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int present;
  uint32_t generation;
  struct vfile* files;
  void* priv; /* struct camera* for VDEV_CAMERA */
};

/* board.c: the profile's devices and the environment contract. */
struct board {
  const char* profile; /* pi4 | pi5 | uvc-h264 */
  int ndev;
  struct vdevice* devs[8];
  int uvc_h264;
  int audio; /* the USB sound card is present (CAMGW_SIM_AUDIO) */
  char sysfs_root[256];
};
extern struct board g_board;
void board_init(void);
struct vdevice* board_new_device(enum vdev_kind kind, int num);
struct vdevice* board_find_path(const char* path);
void board_set_present(struct vdevice* d, int present);

/* fdtable.c */
struct vfile* fd_get(int fd); /* referenced lookup; NULL for ordinary fds */
void fd_put(struct vfile* f);
void fd_set_vfile(int fd, struct vfile* f);
struct vfile* fd_take(int fd); /* remove from table, return it (caller drops ref) */
void vfile_release(struct vfile* f);

/* poll state (poll.c) */
unsigned vfile_poll_mask(struct vfile* f);  /* dev lock held */
void vfile_update_level(struct vfile* f);   /* dev lock held */
void vdev_update_levels(struct vdevice* d); /* dev lock held */

/* events.c */
int ev_subscribe(struct vfile* f, struct v4l2_event_subscription* s);
int ev_unsubscribe(struct vfile* f, struct v4l2_event_subscription* s);
int ev_dequeue(struct vfile* f, struct v4l2_event* e);
int ev_subscribed(struct vfile* f, uint32_t type, uint32_t id);
void ev_queue(struct vfile* f, const struct v4l2_event* e);

/* vb.c: videobuf2-like queue operations. */
void vq_init(struct vqueue* q, uint32_t type, uint32_t io_modes, uint32_t off_base,
             uint32_t ts_flags, uint32_t min_bufs);
int vq_reqbufs(struct vqueue* q, struct vfile* f, struct v4l2_requestbuffers* r);
int vq_create_bufs(struct vqueue* q, struct vfile* f, struct v4l2_create_buffers* c,
                   uint32_t sizeimage);
int vq_querybuf(struct vqueue* q, struct v4l2_buffer* b);
int vq_qbuf(struct vqueue* q, struct vfile* f, struct v4l2_buffer* b);
int vq_dqbuf(struct vqueue* q, struct vfile* f, struct v4l2_buffer* b, int nonblock);
int vq_expbuf(struct vqueue* q, struct v4l2_exportbuffer* e);
int vq_streamon(struct vqueue* q, struct vfile* f);
int vq_streamoff(struct vqueue* q, struct vfile* f);
void vq_free(struct vqueue* q);
struct vbuf* vq_take_queued(struct vqueue* q);
void vq_complete(struct vqueue* q, struct vbuf* b);
int vq_owner_check(struct vqueue* q, struct vfile* f);
struct vbuf* vq_find_offset(struct vqueue* q, uint64_t off);
int vq_is_mplane(const struct vqueue* q);

/* camera.c / encoder.c */
int camera_create(struct vdevice* d, int uvc_h264);
int camera_ioctl(struct vfile* f, unsigned long req, void* arg);
void camera_release(struct vfile* f);
void camera_unplug(struct vdevice* d);
int encoder_ioctl(struct vfile* f, unsigned long req, void* arg);
int media_ioctl(struct vfile* f, unsigned long req, void* arg);
int encoder_open(struct vfile* f);
void encoder_release(struct vfile* f);
void encoder_unplug(struct vfile* f);

/* shared ioctl helpers (common.c) */
int common_ioctl(struct vfile* f, unsigned long req, void* arg, int* handled);
int file_nonblock(struct vfile* f);
int64_t mono_ns(void);
int64_t real_ns(void);

#endif
