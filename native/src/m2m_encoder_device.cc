#include "m2m_encoder_device.h"

#include <poll.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "clock_map.h"
#include "device_error.h"

namespace camgw {

namespace {
constexpr uint32_t kOut = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
constexpr uint32_t kCap = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
// OUTPUT (raw) buffers for the copy path: one being encoded, one queued behind
// it, one spare; the Pi's codec holds one input for about a frame.
constexpr uint32_t kOutputBuffers = 3;
// CAPTURE (bitstream) buffers: we copy each one out and requeue it at once, so
// a few are enough to never starve the encoder.
constexpr uint32_t kCaptureBuffers = 4;

int32_t v4l2Level(uint32_t idc) {
  switch (idc) {
    case 9:
      return V4L2_MPEG_VIDEO_H264_LEVEL_1B;
    case 10:
      return V4L2_MPEG_VIDEO_H264_LEVEL_1_0;
    case 11:
      return V4L2_MPEG_VIDEO_H264_LEVEL_1_1;
    case 12:
      return V4L2_MPEG_VIDEO_H264_LEVEL_1_2;
    case 13:
      return V4L2_MPEG_VIDEO_H264_LEVEL_1_3;
    case 20:
      return V4L2_MPEG_VIDEO_H264_LEVEL_2_0;
    case 21:
      return V4L2_MPEG_VIDEO_H264_LEVEL_2_1;
    case 22:
      return V4L2_MPEG_VIDEO_H264_LEVEL_2_2;
    case 30:
      return V4L2_MPEG_VIDEO_H264_LEVEL_3_0;
    case 31:
      return V4L2_MPEG_VIDEO_H264_LEVEL_3_1;
    case 32:
      return V4L2_MPEG_VIDEO_H264_LEVEL_3_2;
    case 40:
      return V4L2_MPEG_VIDEO_H264_LEVEL_4_0;
    case 41:
      return V4L2_MPEG_VIDEO_H264_LEVEL_4_1;
    case 42:
      return V4L2_MPEG_VIDEO_H264_LEVEL_4_2;
    case 50:
      return V4L2_MPEG_VIDEO_H264_LEVEL_5_0;
    case 51:
      return V4L2_MPEG_VIDEO_H264_LEVEL_5_1;
    default:
      return V4L2_MPEG_VIDEO_H264_LEVEL_5_2;
  }
}

int32_t v4l2Profile(H264Profile p) {
  switch (p) {
    case H264Profile::ConstrainedBaseline:
      return V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE;
    case H264Profile::Baseline:
      return V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE;
    case H264Profile::Main:
      return V4L2_MPEG_VIDEO_H264_PROFILE_MAIN;
    case H264Profile::High:
      return V4L2_MPEG_VIDEO_H264_PROFILE_HIGH;
  }
  return V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE;
}
}  // namespace

M2mEncoderDevice::M2mEncoderDevice(const std::string& path, const EncoderSettings& s)
    : path_(path), fd_(openDevice(path)), s_(s) {}

void M2mEncoderDevice::setControl(uint32_t id, int32_t value, const char* name, bool optional) {
  v4l2_ext_control c{};
  c.id = id;
  c.value = value;
  v4l2_ext_controls cs{};
  cs.which = V4L2_CTRL_WHICH_CUR_VAL;
  cs.count = 1;
  cs.controls = &c;
  if (xioctl(fd_.get(), VIDIOC_S_EXT_CTRLS, &cs) == -1) {
    const int err = errno;
    if (optional && (err == EINVAL || err == ERANGE || err == EACCES)) return;
    throw DeviceError(path_, std::string("VIDIOC_S_EXT_CTRLS(") + name + ")", err);
  }
}

void M2mEncoderDevice::configure(uint32_t inputFourcc, uint32_t bytesperline) {
  inputFourcc_ = inputFourcc;
  // 1. The coded format on CAPTURE comes first: it selects the codec, and the
  // OUTPUT formats the driver offers depend on it.
  v4l2_format cf{};
  cf.type = kCap;
  cf.fmt.pix_mp.width = s_.width;
  cf.fmt.pix_mp.height = s_.height;
  cf.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_H264;
  cf.fmt.pix_mp.num_planes = 1;
  // Room for one access unit: an IDR at a high bitrate can be large; half a
  // byte per pixel (at least 256 KiB) is what bcm2835-codec's own default
  // allows for 1080p.
  cf.fmt.pix_mp.plane_fmt[0].sizeimage = std::max<uint32_t>(256 * 1024, s_.width * s_.height / 2);
  CAMGW_IOCTL(fd_.get(), path_, VIDIOC_S_FMT, &cf);
  if (cf.fmt.pix_mp.pixelformat != V4L2_PIX_FMT_H264) {
    throw DeviceError(path_, "VIDIOC_S_FMT", "encoder does not produce H.264");
  }

  // 2. The raw format on OUTPUT, with the camera's stride so DMABUF import works.
  v4l2_format of{};
  of.type = kOut;
  of.fmt.pix_mp.width = s_.width;
  of.fmt.pix_mp.height = s_.height;
  of.fmt.pix_mp.pixelformat = inputFourcc;
  of.fmt.pix_mp.field = V4L2_FIELD_NONE;
  of.fmt.pix_mp.num_planes = 1;
  of.fmt.pix_mp.plane_fmt[0].bytesperline = bytesperline;
  CAMGW_IOCTL(fd_.get(), path_, VIDIOC_S_FMT, &of);
  if (of.fmt.pix_mp.pixelformat != inputFourcc) {
    throw DeviceError(path_, "VIDIOC_S_FMT",
                      "encoder does not accept " + fourccToString(inputFourcc) + " input");
  }
  if (of.fmt.pix_mp.width != s_.width || of.fmt.pix_mp.height != s_.height) {
    throw DeviceError(
        path_, "VIDIOC_S_FMT",
        "encoder cannot take " + std::to_string(s_.width) + "x" + std::to_string(s_.height));
  }
  outBytesperline_ = of.fmt.pix_mp.plane_fmt[0].bytesperline;
  outSizeimage_ = of.fmt.pix_mp.plane_fmt[0].sizeimage;

  // 3. Frame interval on OUTPUT: the rate control's notion of time.
  v4l2_streamparm p{};
  p.type = kOut;
  p.parm.output.timeperframe.numerator = rateNum_ ? rateDen_ : s_.fpsDenominator;
  p.parm.output.timeperframe.denominator = rateNum_ ? rateNum_ : s_.fpsNumerator;
  if (xioctl(fd_.get(), VIDIOC_S_PARM, &p) == -1 && errno != ENOTTY && errno != EINVAL) {
    throw DeviceError(path_, "VIDIOC_S_PARM", errno);
  }

  // 4. Controls (names as in include/uapi/linux/v4l2-controls.h).
  setControl(V4L2_CID_MPEG_VIDEO_BITRATE_MODE,
             s_.cbr ? V4L2_MPEG_VIDEO_BITRATE_MODE_CBR : V4L2_MPEG_VIDEO_BITRATE_MODE_VBR,
             "V4L2_CID_MPEG_VIDEO_BITRATE_MODE", false);
  setControl(V4L2_CID_MPEG_VIDEO_BITRATE, static_cast<int32_t>(s_.bitrateKbps * 1000),
             "V4L2_CID_MPEG_VIDEO_BITRATE", false);
  setControl(V4L2_CID_MPEG_VIDEO_H264_I_PERIOD, static_cast<int32_t>(s_.keyframeInterval),
             "V4L2_CID_MPEG_VIDEO_H264_I_PERIOD", false);
  setControl(V4L2_CID_MPEG_VIDEO_H264_PROFILE, v4l2Profile(s_.profile),
             "V4L2_CID_MPEG_VIDEO_H264_PROFILE", false);
  const uint32_t level =
      s_.levelIdc ? s_.levelIdc
                  : pickLevelIdc(s_.width, s_.height, double(s_.fpsNumerator) / s_.fpsDenominator);
  setControl(V4L2_CID_MPEG_VIDEO_H264_LEVEL, v4l2Level(level), "V4L2_CID_MPEG_VIDEO_H264_LEVEL",
             false);
  // SPS/PPS before every IDR, so a viewer joining at a forced key frame can decode.
  setControl(V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER, 1, "V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER",
             false);
  // bcm2835-codec never emits B-frames and has no B_FRAMES control: optional.
  setControl(V4L2_CID_MPEG_VIDEO_B_FRAMES, 0, "V4L2_CID_MPEG_VIDEO_B_FRAMES", true);
}

void M2mEncoderDevice::setSize(uint32_t width, uint32_t height) {
  s_.width = width;
  s_.height = height;
}

std::vector<uint32_t> M2mEncoderDevice::heldInputs() const {
  std::vector<uint32_t> held;
  for (uint32_t i = 0; i < outFree_.size(); i++) {
    if (!outFree_[i]) held.push_back(i);
  }
  return held;
}

bool M2mEncoderDevice::layoutMatches(uint32_t bytesperline, size_t cameraBufferLength) const {
  return outBytesperline_ == bytesperline && outSizeimage_ <= cameraBufferLength;
}

// QUERYBUF and mmap plane 0 of each MMAP buffer of one queue: H.264 and the
// single-plane raw formats we feed the encoder each fit one plane.
void M2mEncoderDevice::mapBuffers(uint32_t type, uint32_t count, std::vector<Mapping>& maps) {
  for (uint32_t i = 0; i < count; i++) {
    v4l2_buffer b{};
    v4l2_plane pl[VIDEO_MAX_PLANES]{};
    b.type = type;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = i;
    b.m.planes = pl;
    b.length = VIDEO_MAX_PLANES;
    CAMGW_IOCTL(fd_.get(), path_, VIDIOC_QUERYBUF, &b);
    void* p = mmap(nullptr, pl[0].length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(),
                   pl[0].m.mem_offset);
    if (p == MAP_FAILED) throw DeviceError(path_, "mmap", errno);
    maps.emplace_back(p, pl[0].length);
  }
}

bool M2mEncoderDevice::start(uint32_t dmabufCount) {
  dmabuf_ = dmabufCount > 0;
  sawLast_ = false;
  v4l2_requestbuffers rb{};
  rb.type = kOut;
  rb.memory = dmabuf_ ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP;
  rb.count = dmabuf_ ? dmabufCount : kOutputBuffers;
  if (xioctl(fd_.get(), VIDIOC_REQBUFS, &rb) == -1) {
    if (dmabuf_ && (errno == EINVAL || errno == ENOTTY)) return false;
    throw DeviceError(path_, "VIDIOC_REQBUFS", errno);
  }
  if (dmabuf_ && rb.count < dmabufCount) {
    // One slot per camera buffer keeps each dmabuf at a fixed index; fewer won't do.
    rb.count = 0;
    xioctl(fd_.get(), VIDIOC_REQBUFS, &rb);
    return false;
  }
  try {
    outFree_.assign(rb.count, true);
    if (!dmabuf_) mapBuffers(kOut, rb.count, outMaps_);
    v4l2_requestbuffers cr{};
    cr.type = kCap;
    cr.memory = V4L2_MEMORY_MMAP;
    cr.count = kCaptureBuffers;
    CAMGW_IOCTL(fd_.get(), path_, VIDIOC_REQBUFS, &cr);
    mapBuffers(kCap, cr.count, capMaps_);
    for (uint32_t i = 0; i < cr.count; i++) queueCapture(i);
    int t = kOut;
    CAMGW_IOCTL(fd_.get(), path_, VIDIOC_STREAMON, &t);
    streaming_ = true;
    t = kCap;
    CAMGW_IOCTL(fd_.get(), path_, VIDIOC_STREAMON, &t);
  } catch (...) {
    stop();
    throw;
  }
  return true;
}

void M2mEncoderDevice::stop() noexcept {
  int t = kOut;
  if (streaming_) {
    xioctl(fd_.get(), VIDIOC_STREAMOFF, &t);
    t = kCap;
    xioctl(fd_.get(), VIDIOC_STREAMOFF, &t);
    streaming_ = false;
  }
  outMaps_.clear();
  capMaps_.clear();
  outFree_.clear();
  v4l2_requestbuffers rb{};
  rb.type = kOut;
  rb.memory = dmabuf_ ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP;
  xioctl(fd_.get(), VIDIOC_REQBUFS, &rb);
  rb = {};
  rb.type = kCap;
  rb.memory = V4L2_MEMORY_MMAP;
  xioctl(fd_.get(), VIDIOC_REQBUFS, &rb);
}

void M2mEncoderDevice::queueCapture(uint32_t index) {
  v4l2_buffer b{};
  v4l2_plane pl[VIDEO_MAX_PLANES]{};
  b.type = kCap;
  b.memory = V4L2_MEMORY_MMAP;
  b.index = index;
  b.m.planes = pl;
  b.length = 1;
  CAMGW_IOCTL(fd_.get(), path_, VIDIOC_QBUF, &b);
}

// Queues one raw frame on the OUTPUT queue (one plane: the raw formats we
// feed the encoder are single-plane); the encoder copies `ts` to the
// CAPTURE buffer it produces (V4L2_BUF_FLAG_TIMESTAMP_COPY).
void M2mEncoderDevice::queueOutput(uint32_t index, v4l2_memory memory, const v4l2_plane& plane,
                                   const timeval& ts) {
  v4l2_buffer b{};
  v4l2_plane pl[VIDEO_MAX_PLANES]{};
  pl[0] = plane;
  b.type = kOut;
  b.memory = memory;
  b.index = index;
  b.m.planes = pl;
  b.length = 1;
  b.timestamp = ts;
  CAMGW_IOCTL(fd_.get(), path_, VIDIOC_QBUF, &b);
  outFree_[index] = false;
}

bool M2mEncoderDevice::queueDmabuf(uint32_t slot, int dmabufFd, uint32_t length, uint32_t bytesused,
                                   const timeval& ts) {
  if (slot >= outFree_.size() || !outFree_[slot]) return false;
  v4l2_plane plane{};
  plane.m.fd = dmabufFd;
  plane.length = length;
  plane.bytesused = bytesused;
  queueOutput(slot, V4L2_MEMORY_DMABUF, plane, ts);
  return true;
}

bool M2mEncoderDevice::queueCopy(const uint8_t* data, uint32_t bytesused, const timeval& ts) {
  for (uint32_t i = 0; i < outFree_.size(); i++) {
    if (!outFree_[i]) continue;
    const uint32_t n = std::min<uint32_t>(bytesused, static_cast<uint32_t>(outMaps_[i].size()));
    std::memcpy(outMaps_[i].data(), data, n);
    v4l2_plane plane{};
    plane.bytesused = n;
    queueOutput(i, V4L2_MEMORY_MMAP, plane, ts);
    return true;
  }
  return false;
}

bool M2mEncoderDevice::reclaimInput(uint32_t& slot) {
  v4l2_buffer b{};
  v4l2_plane pl[VIDEO_MAX_PLANES]{};
  b.type = kOut;
  b.memory = dmabuf_ ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP;
  b.m.planes = pl;
  b.length = VIDEO_MAX_PLANES;
  if (xioctl(fd_.get(), VIDIOC_DQBUF, &b) == -1) {
    if (errno == EAGAIN || errno == EPIPE) return false;
    throw DeviceError(path_, "VIDIOC_DQBUF", errno);
  }
  if (b.index < outFree_.size()) outFree_[b.index] = true;
  slot = b.index;
  return true;
}

bool M2mEncoderDevice::dequeueOutput(CodedBuffer& out) {
  v4l2_buffer b{};
  v4l2_plane pl[VIDEO_MAX_PLANES]{};
  b.type = kCap;
  b.memory = V4L2_MEMORY_MMAP;
  b.m.planes = pl;
  b.length = VIDEO_MAX_PLANES;
  if (xioctl(fd_.get(), VIDIOC_DQBUF, &b) == -1) {
    // EPIPE: the LAST buffer was already dequeued (dev-encoder.rst, Drain).
    if (errno == EAGAIN) return false;
    if (errno == EPIPE) {
      sawLast_ = true;
      return false;
    }
    throw DeviceError(path_, "VIDIOC_DQBUF", errno);
  }
  const Mapping& m = capMaps_.at(b.index);
  const uint32_t off = std::min<uint32_t>(pl[0].data_offset, pl[0].bytesused);
  const uint32_t end = std::min<uint32_t>(pl[0].bytesused, static_cast<uint32_t>(m.size()));
  out.data.assign(m.data() + off, m.data() + end);
  out.timestamp = b.timestamp;
  out.keyframe = (b.flags & V4L2_BUF_FLAG_KEYFRAME) != 0;
  if (b.flags & V4L2_BUF_FLAG_LAST) sawLast_ = true;
  if (b.flags & V4L2_BUF_FLAG_ERROR) out.data.clear();
  if (!sawLast_) queueCapture(b.index);
  return !out.data.empty();
}

void M2mEncoderDevice::setBitrate(uint32_t kbps) {
  s_.bitrateKbps = kbps;
  setControl(V4L2_CID_MPEG_VIDEO_BITRATE, static_cast<int32_t>(kbps * 1000),
             "V4L2_CID_MPEG_VIDEO_BITRATE", false);
}

// bcm2835-codec (rpi-6.1 and later) passes a streaming S_PARM on to the VPU
// as MMAL_PARAMETER_VIDEO_FRAME_RATE, which its rate control divides the
// bitrate by; before streaming it is part of the port format (configure()).
void M2mEncoderDevice::setFrameRate(uint32_t fpsNum, uint32_t fpsDen) {
  rateNum_ = fpsNum;
  rateDen_ = fpsDen;
  v4l2_streamparm p{};
  p.type = kOut;
  p.parm.output.timeperframe.numerator = fpsDen;
  p.parm.output.timeperframe.denominator = fpsNum;
  CAMGW_IOCTL(fd_.get(), path_, VIDIOC_S_PARM, &p);
}

void M2mEncoderDevice::forceKeyFrame() {
  setControl(V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, 1, "V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME", false);
}

bool M2mEncoderDevice::beginDrain() noexcept {
  if (!streaming_) return false;
  v4l2_encoder_cmd cmd{};
  cmd.cmd = V4L2_ENC_CMD_STOP;
  return xioctl(fd_.get(), VIDIOC_ENCODER_CMD, &cmd) == 0;
}

void M2mEncoderDevice::drain(int timeoutMs) noexcept {
  if (!beginDrain()) return;
  const int64_t deadline = ClockMap::monotonicUs() + int64_t(timeoutMs) * 1000;
  try {
    while (!sawLast_) {
      const int64_t left = deadline - ClockMap::monotonicUs();
      if (left <= 0) break;
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left / 1000) + 1) <= 0) break;
      if (p.revents & (POLLERR | POLLHUP)) break;
      CodedBuffer u;
      uint32_t slot;
      while (reclaimInput(slot)) {
      }
      dequeueOutput(u);  // drained access units are discarded: the pipeline is closing
    }
  } catch (const DeviceError&) {
    // A device gone mid-drain has nothing left to give.
  }
}

}  // namespace camgw
