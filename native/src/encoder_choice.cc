#include "encoder_choice.h"

#include <algorithm>
#include <string>

#include "device_error.h"
#include "device_list.h"
#include "m2m_encoder.h"
#include "passthrough_encoder.h"
#include "x264_encoder.h"

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

// What `o.encoder` comes to as far as the camera alone decides it: auto is
// passthrough when the camera gives H.264 (and no raw format was asked for).
// Refuses the combinations that cannot work.
EncoderMode resolveMode(const PipelineOptions& o, const CaptureDevice& camera) {
  const bool camH264 = camera.offers(V4L2_PIX_FMT_H264);
  if (o.fourcc == V4L2_PIX_FMT_H264 && o.encoder != EncoderMode::Auto &&
      o.encoder != EncoderMode::Passthrough) {
    throw DeviceError(o.device, "VIDIOC_S_FMT",
                      "H264 capture is only used with encoder \"passthrough\"");
  }
  if (o.encoder == EncoderMode::Passthrough && !camH264) {
    throw DeviceError(o.device, "VIDIOC_ENUM_FMT",
                      "camera does not offer H264, so passthrough is impossible");
  }
  if (o.encoder == EncoderMode::Auto && camH264 &&
      (o.fourcc == 0 || o.fourcc == V4L2_PIX_FMT_H264)) {
    return EncoderMode::Passthrough;
  }
  return o.encoder;
}

// The hardware encoder to try: the named node, or the first stateful H.264
// encoder in /dev (the Pi's bcm2835-codec-encode first). False when none.
bool findM2mEncoder(const PipelineOptions& o, DeviceInfo& out) {
  if (!o.encoderDevice.empty()) {
    UniqueFd fd = openDevice(o.encoderDevice);
    out = describeDevice(fd.get(), o.encoderDevice);
    if (out.kind != DeviceKind::M2mEncoder || !out.multiplanar) {
      throw DeviceError(o.encoderDevice, "VIDIOC_QUERYCAP",
                        "not a multi-planar V4L2 M2M H.264 encoder");
    }
    return true;
  }
  bool found = false;
  for (const DeviceInfo& d : listDevices()) {
    if (d.kind != DeviceKind::M2mEncoder || !d.multiplanar) continue;
    if (!found || (d.isPiEncoder && !out.isPiEncoder)) {
      out = d;
      found = true;
    }
  }
  return found;
}

// The camera's raw format to encode from: the one asked for, if the encoder
// `takes` it, else the first of `order` the camera offers and the encoder
// takes; 0 when none fits.
template <typename Takes>
uint32_t pickRawFormat(const PipelineOptions& o, const CaptureDevice& camera,
                       const uint32_t (&order)[3], Takes takes) {
  if (o.fourcc != 0) {
    if (!camera.offers(o.fourcc)) {
      throw DeviceError(o.device, "VIDIOC_ENUM_FMT",
                        "camera does not offer " + fourccToString(o.fourcc));
    }
    return takes(o.fourcc) ? o.fourcc : 0;
  }
  for (uint32_t f : order) {
    if (camera.offers(f) && takes(f)) return f;
  }
  return 0;
}

// The caller's settings at the size and rate the camera agreed to.
EncoderSettings settingsFor(const PipelineOptions& o, const CaptureFormat& fmt) {
  EncoderSettings s = o.settings;
  s.width = fmt.width;
  s.height = fmt.height;
  s.fpsNumerator = fmt.fpsNumerator;
  s.fpsDenominator = fmt.fpsDenominator;
  return s;
}

// The camera in a raw format `enc` takes, and `enc` configured for it. When
// that fails: throws if the hardware encoder was asked for (`forced`), else
// returns null (auto falls back to software).
std::unique_ptr<Encoder> openHardware(const PipelineOptions& o, CaptureDevice& camera,
                                      const DeviceInfo& enc, bool forced, CaptureFormat& fmt) {
  const uint32_t f = pickRawFormat(o, camera, kHardwareOrder,
                                   [&enc](uint32_t x) { return inList(enc.inputFormats, x); });
  if (f == 0) {
    if (!forced) return nullptr;
    throw DeviceError(
        enc.path, "VIDIOC_ENUM_FMT",
        "encoder takes none of the camera's raw formats" +
            (o.fourcc ? " (asked for " + fourccToString(o.fourcc) + ")" : std::string()));
  }
  try {
    fmt = camera.configure(o.width, o.height, o.fps, f);
    return std::make_unique<M2mEncoder>(enc.path, settingsFor(o, fmt), fmt, o.zeroCopy);
  } catch (const DeviceError&) {
    if (forced) throw;
    return nullptr;
  }
}

std::unique_ptr<Encoder> openSoftware(const PipelineOptions& o, CaptureDevice& camera,
                                      CaptureFormat& fmt) {
  const uint32_t f = pickRawFormat(o, camera, kSoftwareOrder, X264Encoder::accepts);
  if (f == 0) {
    throw DeviceError(o.device, "VIDIOC_ENUM_FMT",
                      "camera offers no format the software encoder takes (YUYV, NV12, YU12)");
  }
  fmt = camera.configure(o.width, o.height, o.fps, f);
  return std::make_unique<X264Encoder>(o.device, settingsFor(o, fmt), fmt.fourcc, fmt.bytesperline);
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
  EncoderMode mode = resolveMode(o, *p.camera);
  CaptureFormat fmt;
  std::string encoderDevice;
  if (mode == EncoderMode::Passthrough) {
    fmt = p.camera->configure(o.width, o.height, o.fps, V4L2_PIX_FMT_H264);
    p.encoder = std::make_unique<PassthroughEncoder>(*p.camera);
  } else {
    if (mode != EncoderMode::Software) {
      DeviceInfo enc{};
      if (findM2mEncoder(o, enc)) {
        p.encoder = openHardware(o, *p.camera, enc, mode == EncoderMode::Hardware, fmt);
        if (p.encoder) encoderDevice = enc.path;
      } else if (mode == EncoderMode::Hardware) {
        throw DeviceError("/dev", "VIDIOC_QUERYCAP", "no V4L2 M2M H.264 encoder found");
      }
    }
    mode = p.encoder ? EncoderMode::Hardware : EncoderMode::Software;
    if (!p.encoder) p.encoder = openSoftware(o, *p.camera, fmt);
  }
  p.negotiated = {fmt.width,  fmt.height, fmt.fpsNumerator, fmt.fpsDenominator,
                  fmt.fourcc, mode,       encoderDevice,    false};
  return p;
}

}  // namespace camgw
