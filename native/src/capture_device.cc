#include "capture_device.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>

#include "device_error.h"

namespace camgw {

namespace {
// Four buffers: one the driver is filling, one the encoder holds (with DMABUF
// the camera buffer stays busy until the encoder returns its OUTPUT buffer,
// about one frame on the Pi), one queued and one spare for jitter. More would
// not lower latency (we always take what is ready) and costs a frame of
// memory each; fewer makes the driver drop frames while the encoder holds one.
constexpr uint32_t kCaptureBuffers = 4;
}  // namespace

CaptureDevice::CaptureDevice(const std::string& path) : path_(path), fd_(openDevice(path)) {
  info_ = describeDevice(fd_.get(), path_);
  if (info_.kind != DeviceKind::Capture) {
    throw DeviceError(path_, "VIDIOC_QUERYCAP", "not a video capture device");
  }
  if (!(info_.capabilities & V4L2_CAP_STREAMING)) {
    throw DeviceError(path_, "VIDIOC_QUERYCAP", "device does not support streaming I/O");
  }
}

uint32_t CaptureDevice::bufType() const {
  return info_.multiplanar ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE;
}

bool CaptureDevice::offers(uint32_t fourcc) const {
  return std::any_of(info_.formats.begin(), info_.formats.end(),
                     [fourcc](const FormatInfo& f) { return f.fourcc == fourcc; });
}

CaptureFormat CaptureDevice::configure(uint32_t width, uint32_t height, uint32_t fps,
                                       uint32_t fourcc) {
  v4l2_format f{};
  f.type = bufType();
  if (info_.multiplanar) {
    f.fmt.pix_mp.width = width;
    f.fmt.pix_mp.height = height;
    f.fmt.pix_mp.pixelformat = fourcc;
    f.fmt.pix_mp.field = V4L2_FIELD_NONE;
    f.fmt.pix_mp.num_planes = 1;
  } else {
    f.fmt.pix.width = width;
    f.fmt.pix.height = height;
    f.fmt.pix.pixelformat = fourcc;
    f.fmt.pix.field = V4L2_FIELD_NONE;
  }
  CAMGW_IOCTL(fd_.get(), path_, VIDIOC_S_FMT, &f);
  CaptureFormat c;
  if (info_.multiplanar) {
    if (f.fmt.pix_mp.num_planes != 1) {
      throw DeviceError(path_, "VIDIOC_S_FMT", "multi-buffer planar formats are not supported");
    }
    c.width = f.fmt.pix_mp.width;
    c.height = f.fmt.pix_mp.height;
    c.fourcc = f.fmt.pix_mp.pixelformat;
    c.bytesperline = f.fmt.pix_mp.plane_fmt[0].bytesperline;
    c.sizeimage = f.fmt.pix_mp.plane_fmt[0].sizeimage;
  } else {
    c.width = f.fmt.pix.width;
    c.height = f.fmt.pix.height;
    c.fourcc = f.fmt.pix.pixelformat;
    c.bytesperline = f.fmt.pix.bytesperline;
    c.sizeimage = f.fmt.pix.sizeimage;
  }
  // S_FMT may substitute another format rather than fail (the UAPI says so);
  // encoding the wrong layout would be garbage, so refuse here.
  if (c.fourcc != fourcc) {
    throw DeviceError(
        path_, "VIDIOC_S_FMT",
        "driver replaced " + fourccToString(fourcc) + " with " + fourccToString(c.fourcc));
  }
  if (c.bytesperline == 0 && fourcc != V4L2_PIX_FMT_H264) c.bytesperline = c.width;

  v4l2_streamparm p{};
  p.type = bufType();
  p.parm.capture.timeperframe.numerator = 1;
  p.parm.capture.timeperframe.denominator = fps;
  if (xioctl(fd_.get(), VIDIOC_S_PARM, &p) == 0 &&
      (p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME) &&
      p.parm.capture.timeperframe.numerator != 0) {
    c.fpsNumerator = p.parm.capture.timeperframe.denominator;
    c.fpsDenominator = p.parm.capture.timeperframe.numerator;
  } else if (errno == ENODEV) {
    throw DeviceError(path_, "VIDIOC_S_PARM", ENODEV);
  } else {
    // Drivers without frame-rate control run at their own rate; report the request.
    c.fpsNumerator = fps;
    c.fpsDenominator = 1;
  }
  fmt_ = c;
  return c;
}

void CaptureDevice::start(bool exportDmabuf) {
  v4l2_requestbuffers rb{};
  rb.count = kCaptureBuffers;
  rb.type = bufType();
  rb.memory = V4L2_MEMORY_MMAP;
  CAMGW_IOCTL(fd_.get(), path_, VIDIOC_REQBUFS, &rb);
  if (rb.count < 2)
    throw DeviceError(path_, "VIDIOC_REQBUFS", "driver granted fewer than 2 buffers");
  // We ask for kCaptureBuffers; a driver may grant a few more (its minimum),
  // not past vb2's default queue limit, VIDEO_MAX_FRAME (32; Linux 6.8 made
  // it a per-driver max_num_buffers, which most capture drivers leave at 32).
  // A count past it is a broken driver, and taking its word would allocate
  // without bound (found by fuzzing, docs/fuzzing.md).
  if (rb.count > VIDEO_MAX_FRAME)
    throw DeviceError(path_, "VIDIOC_REQBUFS",
                      "driver granted " + std::to_string(rb.count) + " buffers, over " +
                          std::to_string(VIDEO_MAX_FRAME));
  buffers_.resize(rb.count);
  exported_ = exportDmabuf;
  try {
    for (uint32_t i = 0; i < rb.count; i++) {
      v4l2_buffer b{};
      v4l2_plane planes[VIDEO_MAX_PLANES]{};
      b.index = i;
      b.type = bufType();
      b.memory = V4L2_MEMORY_MMAP;
      if (info_.multiplanar) {
        b.m.planes = planes;
        b.length = VIDEO_MAX_PLANES;
      }
      CAMGW_IOCTL(fd_.get(), path_, VIDIOC_QUERYBUF, &b);
      const uint32_t len = info_.multiplanar ? planes[0].length : b.length;
      const uint32_t off = info_.multiplanar ? planes[0].m.mem_offset : b.m.offset;
      void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), off);
      if (p == MAP_FAILED) throw DeviceError(path_, "mmap", errno);
      buffers_[i].map = Mapping(p, len);
      if (exported_) {
        v4l2_exportbuffer e{};
        e.type = bufType();
        e.index = i;
        e.flags = O_CLOEXEC | O_RDONLY;
        if (xioctl(fd_.get(), VIDIOC_EXPBUF, &e) == 0) {
          buffers_[i].dmabuf.reset(e.fd);
        } else {
          exported_ = false;  // the copy path still works; DMABUF is an optimisation
        }
      }
    }
    if (!exported_) {
      for (auto& b : buffers_) b.dmabuf.reset();
    }
    for (uint32_t i = 0; i < rb.count; i++) requeue(i);
    int type = static_cast<int>(bufType());
    CAMGW_IOCTL(fd_.get(), path_, VIDIOC_STREAMON, &type);
    streaming_ = true;
  } catch (...) {
    stop();
    throw;
  }
}

void CaptureDevice::stop() noexcept {
  if (streaming_) {
    int type = static_cast<int>(bufType());
    xioctl(fd_.get(), VIDIOC_STREAMOFF, &type);
    streaming_ = false;
  }
  if (!buffers_.empty()) {
    buffers_.clear();  // unmaps and closes exported fds
    v4l2_requestbuffers rb{};
    rb.count = 0;
    rb.type = bufType();
    rb.memory = V4L2_MEMORY_MMAP;
    xioctl(fd_.get(), VIDIOC_REQBUFS, &rb);
  }
  exported_ = false;
}

bool CaptureDevice::dequeue(CapturedBuffer& out) {
  v4l2_buffer b{};
  v4l2_plane planes[VIDEO_MAX_PLANES]{};
  b.type = bufType();
  b.memory = V4L2_MEMORY_MMAP;
  if (info_.multiplanar) {
    b.m.planes = planes;
    b.length = VIDEO_MAX_PLANES;
  }
  if (xioctl(fd_.get(), VIDIOC_DQBUF, &b) == -1) {
    if (errno == EAGAIN) return false;
    throw DeviceError(path_, "VIDIOC_DQBUF", errno);
  }
  // The driver's word on which buffer and how much of it is checked before
  // it is used: an index past the buffers or a payload past the mapping
  // would read outside it (both found by fuzzing, docs/fuzzing.md).
  if (b.index >= buffers_.size()) {
    throw DeviceError(path_, "VIDIOC_DQBUF",
                      "driver returned buffer " + std::to_string(b.index) + " of " +
                          std::to_string(buffers_.size()));
  }
  out.index = b.index;
  out.data = buffers_[b.index].map.data();
  out.length = buffers_[b.index].map.size();
  out.dmabufFd = exported_ ? buffers_[b.index].dmabuf.get() : -1;
  out.bytesused = info_.multiplanar ? planes[0].bytesused : b.bytesused;
  out.bytesused = std::min<size_t>(out.bytesused, out.length);
  out.timestamp = b.timestamp;
  out.sequence = b.sequence;
  out.keyframe = (b.flags & V4L2_BUF_FLAG_KEYFRAME) != 0;
  if (b.flags & V4L2_BUF_FLAG_ERROR) out.bytesused = 0;  // corrupt frame: caller skips it
  return true;
}

void CaptureDevice::requeue(uint32_t index) {
  v4l2_buffer b{};
  v4l2_plane planes[VIDEO_MAX_PLANES]{};
  b.index = index;
  b.type = bufType();
  b.memory = V4L2_MEMORY_MMAP;
  if (info_.multiplanar) {
    b.m.planes = planes;
    b.length = 1;
  }
  CAMGW_IOCTL(fd_.get(), path_, VIDIOC_QBUF, &b);
}

bool CaptureDevice::forceKeyFrame() {
  v4l2_control c{};
  c.id = V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME;
  c.value = 1;
  return xioctl(fd_.get(), VIDIOC_S_CTRL, &c) == 0;
}

}  // namespace camgw
