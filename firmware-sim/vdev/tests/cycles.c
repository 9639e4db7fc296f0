/* Opens, streams a few frames and closes the camera and encoder N times,
 * then reports the process's fd and thread counts before and after, so a
 * leak in the virtual devices shows.
 *   cycles N */
#include <dirent.h>

#include "vtest.h"

static int count_dir(const char* path) {
  DIR* d = opendir(path);
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static void cycle_camera(void) {
  int fd = open("/dev/video0", O_RDWR);
  if (fd < 0) DIE("open camera");
  struct v4l2_requestbuffers r = {
      .count = 2, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
  if (xioctl(fd, VIDIOC_REQBUFS, &r)) DIE("REQBUFS");
  void* m[2];
  size_t len[2];
  for (uint32_t i = 0; i < 2; i++) {
    struct v4l2_buffer b = {.index = i, .type = r.type, .memory = V4L2_MEMORY_MMAP};
    xioctl(fd, VIDIOC_QUERYBUF, &b);
    len[i] = b.length;
    m[i] = mmap(NULL, b.length, PROT_READ, MAP_SHARED, fd, b.m.offset);
    xioctl(fd, VIDIOC_QBUF, &b);
  }
  int t = r.type;
  xioctl(fd, VIDIOC_STREAMON, &t);
  struct v4l2_buffer b = {.type = r.type, .memory = V4L2_MEMORY_MMAP};
  if (xioctl(fd, VIDIOC_DQBUF, &b)) DIE("DQBUF");
  for (int i = 0; i < 2; i++) munmap(m[i], len[i]);
  close(fd); /* while streaming: release must stop and free everything */
}

static void cycle_encoder(void) {
  int fd = open("/dev/video11", O_RDWR);
  if (fd < 0) return; /* pi5 */
  struct v4l2_requestbuffers r = {
      .count = 2, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, .memory = V4L2_MEMORY_MMAP};
  xioctl(fd, VIDIOC_REQBUFS, &r);
  r.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
  xioctl(fd, VIDIOC_REQBUFS, &r);
  int t = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
  xioctl(fd, VIDIOC_STREAMON, &t);
  t = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
  xioctl(fd, VIDIOC_STREAMON, &t);
  close(fd);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50;
  cycle_camera();
  cycle_encoder();
  int fds0 = count_dir("/proc/self/fd"), thr0 = count_dir("/proc/self/task");
  for (int i = 0; i < n; i++) {
    cycle_camera();
    cycle_encoder();
  }
  int fds1 = count_dir("/proc/self/fd"), thr1 = count_dir("/proc/self/task");
  printf(
      "{\"cycles\":%d,\"fds_before\":%d,\"fds_after\":%d,\"threads_before\":%d,"
      "\"threads_after\":%d}\n",
      n, fds0, fds1, thr0, thr1);
  return 0;
}
