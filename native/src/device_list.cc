#include "device_list.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "device_error.h"
#include "v4l2_util.h"

namespace camgw {

namespace {

std::string cstr(const uint8_t* s, size_t n) {
  return std::string(reinterpret_cast<const char*>(s),
                     strnlen(reinterpret_cast<const char*>(s), n));
}

std::vector<FrameInterval> enumIntervals(int fd, uint32_t fourcc, uint32_t w, uint32_t h) {
  std::vector<FrameInterval> out;
  for (uint32_t i = 0;; i++) {
    v4l2_frmivalenum fi{};
    fi.index = i;
    fi.pixel_format = fourcc;
    fi.width = w;
    fi.height = h;
    if (xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) == -1) break;
    if (fi.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
      out.push_back({fi.discrete.numerator, fi.discrete.denominator});
    } else {
      // Stepwise/continuous: report the bounds (fastest first, as discrete lists do).
      out.push_back({fi.stepwise.min.numerator, fi.stepwise.min.denominator});
      out.push_back({fi.stepwise.max.numerator, fi.stepwise.max.denominator});
      break;
    }
  }
  return out;
}

std::vector<FormatInfo> enumFormats(int fd, uint32_t bufType, bool withSizes) {
  std::vector<FormatInfo> out;
  for (uint32_t i = 0;; i++) {
    v4l2_fmtdesc fd_{};
    fd_.index = i;
    fd_.type = bufType;
    if (xioctl(fd, VIDIOC_ENUM_FMT, &fd_) == -1) break;
    FormatInfo f;
    f.fourcc = fd_.pixelformat;
    f.description = cstr(fd_.description, sizeof fd_.description);
    f.compressed = (fd_.flags & V4L2_FMT_FLAG_COMPRESSED) != 0;
    for (uint32_t j = 0; withSizes; j++) {
      v4l2_frmsizeenum fs{};
      fs.index = j;
      fs.pixel_format = f.fourcc;
      if (xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) == -1) break;
      if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
        f.sizes.push_back({fs.discrete.width, fs.discrete.height,
                           enumIntervals(fd, f.fourcc, fs.discrete.width, fs.discrete.height)});
      } else {
        f.hasRange = true;
        f.range = {fs.stepwise.min_width,  fs.stepwise.max_width,  fs.stepwise.step_width,
                   fs.stepwise.min_height, fs.stepwise.max_height, fs.stepwise.step_height};
        break;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

bool hasH264(const std::vector<FormatInfo>& fs) {
  return std::any_of(fs.begin(), fs.end(),
                     [](const FormatInfo& f) { return f.fourcc == V4L2_PIX_FMT_H264; });
}

}  // namespace

DeviceInfo describeDevice(int fd, const std::string& path) {
  DeviceInfo d;
  d.path = path;
  v4l2_capability cap{};
  CAMGW_IOCTL(fd, path, VIDIOC_QUERYCAP, &cap);
  d.driver = cstr(cap.driver, sizeof cap.driver);
  d.card = cstr(cap.card, sizeof cap.card);
  d.bus = cstr(cap.bus_info, sizeof cap.bus_info);
  d.capabilities = nodeCaps(cap);
  const uint32_t c = d.capabilities;
  d.kind = DeviceKind::Other;
  d.multiplanar = false;
  if (c & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE)) {
    d.multiplanar = (c & V4L2_CAP_VIDEO_M2M_MPLANE) != 0;
    const uint32_t capType =
        d.multiplanar ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE;
    const uint32_t outType =
        d.multiplanar ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE : V4L2_BUF_TYPE_VIDEO_OUTPUT;
    d.formats = enumFormats(fd, capType, true);
    d.inputFormats = enumFormats(fd, outType, false);
    // A stateful encoder: raw in on OUTPUT, H.264 out on CAPTURE.
    if (hasH264(d.formats)) d.kind = DeviceKind::M2mEncoder;
  } else if (c & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) {
    d.multiplanar = (c & V4L2_CAP_VIDEO_CAPTURE) == 0;
    d.formats = enumFormats(
        fd, d.multiplanar ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE, true);
    d.kind = DeviceKind::Capture;
  }
  // The Raspberry Pi's VideoCore encoder (drivers/staging/vc04_services/bcm2835-codec)
  // registers /dev/video11 with this card name; decode/isp nodes share the driver name.
  d.isPiEncoder = d.kind == DeviceKind::M2mEncoder &&
                  (d.card == "bcm2835-codec-encode" || d.driver == "bcm2835-codec");
  return d;
}

std::vector<DeviceInfo> listDevices(const std::string& dir) {
  std::vector<std::pair<int, std::string>> names;
  if (DIR* dp = opendir(dir.c_str())) {
    while (dirent* e = readdir(dp)) {
      const char* n = e->d_name;
      if (std::strncmp(n, "video", 5) != 0 || n[5] == '\0') continue;
      bool digits = true;
      for (const char* p = n + 5; *p; p++) digits = digits && (*p >= '0' && *p <= '9');
      if (digits) names.emplace_back(std::atoi(n + 5), n);
    }
    closedir(dp);
  }
  std::sort(names.begin(), names.end());
  std::vector<DeviceInfo> out;
  for (const auto& [num, name] : names) {
    const std::string path = dir + "/" + name;
    try {
      UniqueFd fd = openDevice(path);
      out.push_back(describeDevice(fd.get(), path));
    } catch (const DeviceError&) {
      DeviceInfo d{};
      d.path = path;
      d.kind = DeviceKind::Other;
      out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace camgw
