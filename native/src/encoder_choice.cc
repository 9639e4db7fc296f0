#include "encoder_choice.h"

#include <algorithm>

#include "device_error.h"
#include "device_list.h"

namespace camgw {

namespace {

// Raw formats in order of preference. The hardware encoder takes NV12 as its
// native layout (bcm2835-codec's ISP converts the rest); x264 wants I420,
// which YU12 already is.
const uint32_t kHardwareOrder[] = {V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_YUYV};
const uint32_t kSoftwareOrder[] = {V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUYV};

bool inList(const std::vector<FormatInfo>& fs, uint32_t f) {
  return std::any_of(fs.begin(), fs.end(), [f](const FormatInfo& x) { return x.fourcc == f; });
}

}  // namespace

const char* encoderModeName(EncoderMode m) {
  switch (m) {
    case EncoderMode::Hardware:
      return "hardware";
    case EncoderMode::Software:
      return "software";
    case EncoderMode::Passthrough:
      return "passthrough";
    case EncoderMode::Auto:
      return "auto";
  }
  return "auto";
}

PipelineParts openPipelineParts(const PipelineOptions& o) {
  PipelineParts p;
  p.camera = std::make_unique<CaptureDevice>(o.device);
  const bool camH264 = p.camera->offers(V4L2_PIX_FMT_H264);
  EncoderMode mode = o.encoder;
  if (o.fourcc == V4L2_PIX_FMT_H264 && mode != EncoderMode::Auto &&
      mode != EncoderMode::Passthrough) {
    throw DeviceError(o.device, "VIDIOC_S_FMT",
                      "H264 capture is only used with encoder \"passthrough\"");
  }
  if (mode == EncoderMode::Passthrough && !camH264) {
    throw DeviceError(o.device, "VIDIOC_ENUM_FMT",
                      "camera does not offer H264, so passthrough is impossible");
  }
  if (mode == EncoderMode::Auto && camH264 && (o.fourcc == 0 || o.fourcc == V4L2_PIX_FMT_H264)) {
    mode = EncoderMode::Passthrough;
  }

  // Find the hardware encoder: the named node, or the first stateful H.264
  // encoder in /dev (the Pi's bcm2835-codec-encode first).
  DeviceInfo encInfo{};
  bool haveEnc = false;
  if (mode == EncoderMode::Auto || mode == EncoderMode::Hardware) {
    if (!o.encoderDevice.empty()) {
      UniqueFd fd = openDevice(o.encoderDevice);
      encInfo = describeDevice(fd.get(), o.encoderDevice);
      if (encInfo.kind != DeviceKind::M2mEncoder || !encInfo.multiplanar) {
        throw DeviceError(o.encoderDevice, "VIDIOC_QUERYCAP",
                          "not a multi-planar V4L2 M2M H.264 encoder");
      }
      haveEnc = true;
    } else {
      for (const DeviceInfo& d : listDevices()) {
        if (d.kind != DeviceKind::M2mEncoder || !d.multiplanar) continue;
        if (!haveEnc || (d.isPiEncoder && !encInfo.isPiEncoder)) {
          encInfo = d;
          haveEnc = true;
        }
      }
    }
    if (!haveEnc && mode == EncoderMode::Hardware) {
      throw DeviceError("/dev", "VIDIOC_QUERYCAP", "no V4L2 M2M H.264 encoder found");
    }
  }

  auto pickRaw = [&](bool hardware) -> uint32_t {
    if (o.fourcc != 0) {
      if (!p.camera->offers(o.fourcc)) {
        throw DeviceError(o.device, "VIDIOC_ENUM_FMT",
                          "camera does not offer " + fourccToString(o.fourcc));
      }
      const bool ok =
          hardware ? inList(encInfo.inputFormats, o.fourcc) : X264Encoder::accepts(o.fourcc);
      return ok ? o.fourcc : 0;
    }
    for (uint32_t f : hardware ? kHardwareOrder : kSoftwareOrder) {
      if (p.camera->offers(f) && (hardware ? inList(encInfo.inputFormats, f) : true)) return f;
    }
    return 0;
  };

  EncoderSettings s = o.settings;
  CaptureFormat fmt;
  if (mode == EncoderMode::Passthrough) {
    fmt = p.camera->configure(o.width, o.height, o.fps, V4L2_PIX_FMT_H264);
  } else {
    if (mode != EncoderMode::Software && haveEnc) {
      const uint32_t f = pickRaw(true);
      if (f != 0) {
        try {
          fmt = p.camera->configure(o.width, o.height, o.fps, f);
          s.width = fmt.width;
          s.height = fmt.height;
          s.fpsNumerator = fmt.fpsNumerator;
          s.fpsDenominator = fmt.fpsDenominator;
          p.hw = std::make_unique<M2mEncoder>(encInfo.path, s);
          p.hw->configure(fmt.fourcc, fmt.bytesperline);
          mode = EncoderMode::Hardware;
        } catch (const DeviceError&) {
          p.hw.reset();
          if (mode == EncoderMode::Hardware) throw;
        }
      } else if (mode == EncoderMode::Hardware) {
        throw DeviceError(
            encInfo.path, "VIDIOC_ENUM_FMT",
            "encoder takes none of the camera's raw formats" +
                (o.fourcc ? " (asked for " + fourccToString(o.fourcc) + ")" : std::string()));
      }
    }
    if (!p.hw) {
      const uint32_t f = pickRaw(false);
      if (f == 0) {
        throw DeviceError(o.device, "VIDIOC_ENUM_FMT",
                          "camera offers no format the software encoder takes (YUYV, NV12, YU12)");
      }
      fmt = p.camera->configure(o.width, o.height, o.fps, f);
      s.width = fmt.width;
      s.height = fmt.height;
      s.fpsNumerator = fmt.fpsNumerator;
      s.fpsDenominator = fmt.fpsDenominator;
      try {
        p.sw = std::make_unique<X264Encoder>(s, fmt.fourcc, fmt.bytesperline);
      } catch (const std::runtime_error& e) {
        throw DeviceError(o.device, "x264_encoder_open", e.what());
      }
      mode = EncoderMode::Software;
    }
  }
  p.negotiated = {fmt.width,
                  fmt.height,
                  fmt.fpsNumerator,
                  fmt.fpsDenominator,
                  fmt.fourcc,
                  mode,
                  p.hw ? p.hw->path() : std::string(),
                  false};

  return p;
}

}  // namespace camgw
