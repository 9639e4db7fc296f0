/* Camera -> encoder pipeline, the way the Pi's camera stacks feed
 * bcm2835-codec: camera MMAP buffers exported (EXPBUF) and queued on the
 * encoder's OUTPUT queue as DMABUF (or copied into MMAP OUTPUT buffers),
 * H.264 dequeued from CAPTURE and written to a file; then a drain with
 * V4L2_ENC_CMD_STOP. Prints a JSON report.
 *   enc_h264 CAM ENC W H FPS FRAMES BITRATE OUT [dmabuf|mmap] [KEY_AT] [NEW_BITRATE_AT]
 * [TIMEOUT_MS] lat_us is OUTPUT QBUF to CAPTURE DQBUF, the encoder's latency as the application
 * sees it. */
#include "vtest.h"

#define NB 4

static void set_ctrl(int fd, uint32_t id, int32_t v) {
  struct v4l2_control c = {.id = id, .value = v};
  if (xioctl(fd, VIDIOC_S_CTRL, &c)) DIE("VIDIOC_S_CTRL %x", id);
}

int main(int argc, char** argv) {
  if (argc < 9) {
    fprintf(
        stderr,
        "usage: enc_h264 CAM ENC W H FPS FRAMES BITRATE OUT [dmabuf|mmap] [KEY_AT] [BITRATE_AT]\n");
    return 2;
  }
  int w = atoi(argv[3]), h = atoi(argv[4]), fps = atoi(argv[5]), frames = atoi(argv[6]);
  int bitrate = atoi(argv[7]);
  int dmabuf = argc <= 9 || strcmp(argv[9], "mmap") != 0;
  int key_at = argc > 10 ? atoi(argv[10]) : -1;
  int rate_at = argc > 11 ? atoi(argv[11]) : -1;
  int64_t timeout_us = argc > 12 ? atoll(argv[12]) * 1000 : 20000000;
  FILE* out = fopen(argv[8], "wb");
  int cam = open(argv[1], O_RDWR | O_NONBLOCK), enc = open(argv[2], O_RDWR | O_NONBLOCK);
  if (cam < 0 || enc < 0 || !out) DIE("open");

  struct v4l2_format cf = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  cf.fmt.pix = (struct v4l2_pix_format){
      .width = (uint32_t)w, .height = (uint32_t)h, .pixelformat = V4L2_PIX_FMT_YUV420};
  if (xioctl(cam, VIDIOC_S_FMT, &cf)) DIE("cam S_FMT");
  struct v4l2_streamparm sp = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  sp.parm.capture.timeperframe = (struct v4l2_fract){1, (uint32_t)fps};
  xioctl(cam, VIDIOC_S_PARM, &sp);

  struct v4l2_format of = {.type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE};
  of.fmt.pix_mp.width = (uint32_t)w;
  of.fmt.pix_mp.height = (uint32_t)h;
  of.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_YUV420;
  of.fmt.pix_mp.num_planes = 1;
  if (xioctl(enc, VIDIOC_S_FMT, &of)) DIE("enc OUTPUT S_FMT");
  struct v4l2_format kf = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE};
  kf.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_H264;
  kf.fmt.pix_mp.num_planes = 1;
  if (xioctl(enc, VIDIOC_S_FMT, &kf)) DIE("enc CAPTURE S_FMT");
  struct v4l2_streamparm ep = {.type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE};
  ep.parm.output.timeperframe = (struct v4l2_fract){1, (uint32_t)fps};
  if (xioctl(enc, VIDIOC_S_PARM, &ep)) DIE("enc S_PARM");
  set_ctrl(enc, V4L2_CID_MPEG_VIDEO_BITRATE, bitrate);
  set_ctrl(enc, V4L2_CID_MPEG_VIDEO_BITRATE_MODE, V4L2_MPEG_VIDEO_BITRATE_MODE_CBR);
  set_ctrl(enc, V4L2_CID_MPEG_VIDEO_H264_PROFILE,
           V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE);
  set_ctrl(enc, V4L2_CID_MPEG_VIDEO_H264_LEVEL, V4L2_MPEG_VIDEO_H264_LEVEL_4_0);
  set_ctrl(enc, V4L2_CID_MPEG_VIDEO_H264_I_PERIOD, 60);
  set_ctrl(enc, V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER, 1);
  struct v4l2_event_subscription sub = {.type = V4L2_EVENT_EOS};
  if (xioctl(enc, VIDIOC_SUBSCRIBE_EVENT, &sub)) DIE("SUBSCRIBE_EVENT");

  /* camera buffers + exports */
  struct v4l2_requestbuffers r = {.count = NB, .type = cf.type, .memory = V4L2_MEMORY_MMAP};
  if (xioctl(cam, VIDIOC_REQBUFS, &r)) DIE("cam REQBUFS");
  int expfd[NB];
  uint8_t* cmap[NB];
  for (int i = 0; i < NB; i++) {
    struct v4l2_buffer b = {.index = (uint32_t)i, .type = cf.type, .memory = V4L2_MEMORY_MMAP};
    if (xioctl(cam, VIDIOC_QUERYBUF, &b)) DIE("cam QUERYBUF");
    cmap[i] = mmap(NULL, b.length, PROT_READ, MAP_SHARED, cam, b.m.offset);
    struct v4l2_exportbuffer e = {.type = cf.type, .index = (uint32_t)i, .flags = O_CLOEXEC};
    if (xioctl(cam, VIDIOC_EXPBUF, &e)) DIE("cam EXPBUF");
    expfd[i] = e.fd;
    if (xioctl(cam, VIDIOC_QBUF, &b)) DIE("cam QBUF");
  }
  /* encoder queues */
  struct v4l2_requestbuffers ro = {
      .count = NB, .type = of.type, .memory = dmabuf ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP};
  if (xioctl(enc, VIDIOC_REQBUFS, &ro)) DIE("enc OUTPUT REQBUFS");
  uint8_t* omap[NB] = {0};
  int ofree[NB];
  for (int i = 0; i < NB; i++) {
    ofree[i] = 1;
    if (dmabuf) continue;
    struct v4l2_plane pl;
    struct v4l2_buffer b = {.index = (uint32_t)i,
                            .type = of.type,
                            .memory = V4L2_MEMORY_MMAP,
                            .m.planes = &pl,
                            .length = 1};
    if (xioctl(enc, VIDIOC_QUERYBUF, &b)) DIE("enc OUTPUT QUERYBUF");
    omap[i] = mmap(NULL, pl.length, PROT_READ | PROT_WRITE, MAP_SHARED, enc, pl.m.mem_offset);
  }
  struct v4l2_requestbuffers rc = {.count = NB, .type = kf.type, .memory = V4L2_MEMORY_MMAP};
  if (xioctl(enc, VIDIOC_REQBUFS, &rc)) DIE("enc CAPTURE REQBUFS");
  uint8_t* kmap[NB];
  for (int i = 0; i < NB; i++) {
    struct v4l2_plane pl;
    struct v4l2_buffer b = {.index = (uint32_t)i,
                            .type = kf.type,
                            .memory = V4L2_MEMORY_MMAP,
                            .m.planes = &pl,
                            .length = 1};
    if (xioctl(enc, VIDIOC_QUERYBUF, &b)) DIE("enc CAPTURE QUERYBUF");
    kmap[i] = mmap(NULL, pl.length, PROT_READ, MAP_SHARED, enc, pl.m.mem_offset);
    if (xioctl(enc, VIDIOC_QBUF, &b)) DIE("enc CAPTURE QBUF");
  }
  int t = of.type;
  xioctl(enc, VIDIOC_STREAMON, &t);
  t = kf.type;
  xioctl(enc, VIDIOC_STREAMON, &t);
  t = cf.type;
  int64_t t0 = now_us(CLOCK_REALTIME);
  xioctl(cam, VIDIOC_STREAMON, &t);

  int fed = 0, got = 0, keyframes = 0, ts_match = 0, last_seen = 0, stopped = 0, eos = 0;
  long total = 0;
  int64_t cam_ts[64] = {0};
  printf("{\"aus\":[");
  int64_t deadline = now_us(CLOCK_MONOTONIC) + timeout_us;
  int64_t queued_at[64] = {0};
  while (!last_seen && now_us(CLOCK_MONOTONIC) < deadline) {
    struct pollfd p[2] = {{cam, POLLIN, 0}, {enc, POLLIN | POLLOUT | POLLPRI, 0}};
    poll(p, 2, 200);
    struct v4l2_buffer b = {.type = cf.type, .memory = V4L2_MEMORY_MMAP};
    int oi = NB; /* NB: no camera frame this round */
    if (fed < frames && !xioctl(cam, VIDIOC_DQBUF, &b)) {
      int i = (int)b.index;
      /* DMABUF: OUTPUT buffer i is camera buffer i, which the camera gets
       * back only when the encoder returns it. Copy: the camera buffer is
       * requeued at once, so under load it can come round again before the
       * encoder has returned OUTPUT i; take any free OUTPUT buffer, and when
       * none is free drop the frame, as an application behind its encoder
       * would. */
      oi = i;
      if (!dmabuf) {
        oi = -1;
        for (int k = 0; k < NB && oi < 0; k++)
          if (ofree[k]) oi = k;
      } else if (!ofree[i]) {
        DIE("output %d still busy", i);
      }
    }
    if (oi < 0) {
      xioctl(cam, VIDIOC_QBUF, &b);
    } else if (oi < NB) {
      int i = (int)b.index;
      if (fed == key_at) set_ctrl(enc, V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, 1);
      if (fed == rate_at) set_ctrl(enc, V4L2_CID_MPEG_VIDEO_BITRATE, bitrate / 4);
      struct v4l2_plane pl = {.bytesused = b.bytesused};
      struct v4l2_buffer ob = {.index = (uint32_t)oi,
                               .type = of.type,
                               .memory = ro.memory,
                               .m.planes = &pl,
                               .length = 1,
                               .timestamp = b.timestamp,
                               .flags = V4L2_BUF_FLAG_TIMESTAMP_COPY};
      if (dmabuf)
        pl.m.fd = expfd[i];
      else
        memcpy(omap[oi], cmap[i], b.bytesused);
      cam_ts[fed % 64] = (int64_t)b.timestamp.tv_sec * 1000000 + b.timestamp.tv_usec;
      queued_at[fed % 64] = now_us(CLOCK_MONOTONIC);
      if (xioctl(enc, VIDIOC_QBUF, &ob)) DIE("enc OUTPUT QBUF");
      ofree[oi] = 0;
      fed++;
      if (!dmabuf) xioctl(cam, VIDIOC_QBUF, &b);
    }
    struct v4l2_plane opl;
    struct v4l2_buffer ob = {.type = of.type, .memory = ro.memory, .m.planes = &opl, .length = 1};
    while (!xioctl(enc, VIDIOC_DQBUF, &ob)) {
      ofree[ob.index] = 1;
      if (dmabuf && !stopped) {
        struct v4l2_buffer cb = {.index = ob.index, .type = cf.type, .memory = V4L2_MEMORY_MMAP};
        xioctl(cam, VIDIOC_QBUF, &cb);
      }
    }
    struct v4l2_plane kpl;
    struct v4l2_buffer kb = {
        .type = kf.type, .memory = V4L2_MEMORY_MMAP, .m.planes = &kpl, .length = 1};
    while (!xioctl(enc, VIDIOC_DQBUF, &kb)) {
      int64_t ts = (int64_t)kb.timestamp.tv_sec * 1000000 + kb.timestamp.tv_usec;
      int key = !!(kb.flags & V4L2_BUF_FLAG_KEYFRAME);
      if (kpl.bytesused) {
        fwrite(kmap[kb.index], 1, kpl.bytesused, out);
        ts_match += ts == cam_ts[got % 64];
        keyframes += key;
        total += kpl.bytesused;
        printf("%s{\"bytes\":%u,\"key\":%d,\"ts_us\":%lld,\"seq\":%u,\"copy\":%d,\"lat_us\":%lld}",
               got ? "," : "", kpl.bytesused, key, (long long)ts, kb.sequence,
               (kb.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_COPY,
               (long long)(now_us(CLOCK_MONOTONIC) - queued_at[got % 64]));
        got++;
      }
      if (kb.flags & V4L2_BUF_FLAG_LAST) {
        last_seen = 1;
        break;
      }
      xioctl(enc, VIDIOC_QBUF, &kb);
    }
    struct v4l2_event ev;
    while (!xioctl(enc, VIDIOC_DQEVENT, &ev)) eos += ev.type == V4L2_EVENT_EOS;
    if (fed == frames && !stopped) {
      struct v4l2_encoder_cmd cmd = {.cmd = V4L2_ENC_CMD_STOP};
      if (xioctl(enc, VIDIOC_ENCODER_CMD, &cmd)) DIE("ENCODER_CMD");
      stopped = 1;
    }
  }
  struct v4l2_event ev;
  while (!xioctl(enc, VIDIOC_DQEVENT, &ev)) eos += ev.type == V4L2_EVENT_EOS;
  struct v4l2_plane kpl;
  struct v4l2_buffer kb = {
      .type = kf.type, .memory = V4L2_MEMORY_MMAP, .m.planes = &kpl, .length = 1};
  int after_last = xioctl(enc, VIDIOC_DQBUF, &kb);
  int64_t t1 = now_us(CLOCK_REALTIME);
  fclose(out);
  printf(
      "],\"fed\":%d,\"got\":%d,\"keyframes\":%d,\"ts_match\":%d,\"last\":%d,\"eos\":%d,"
      "\"after_last\":\"%s\",\"total_bytes\":%ld,\"t0_real_us\":%lld,\"t1_real_us\":%lld}\n",
      fed, got, keyframes, ts_match, last_seen, eos, after_last == EPIPE ? "EPIPE" : "other", total,
      (long long)t0, (long long)t1);
  return 0;
}
