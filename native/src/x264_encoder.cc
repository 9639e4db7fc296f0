#include "x264_encoder.h"

#include <libyuv.h>
#include <linux/videodev2.h>

#include <algorithm>
#include <string>
#include <utility>

#include "clock_map.h"
#include "device_error.h"

namespace camgw {

namespace {
// Every set-up failure is reported as this call: to the caller, each one
// means the software encoder could not be opened.
constexpr const char* kOpen = "x264_encoder_open";
}  // namespace

X264Encoder::X264Encoder(const std::string& device, const EncoderSettings& s, uint32_t inputFourcc,
                         uint32_t bytesperline)
    : device_(device), s_(s), fourcc_(inputFourcc), bytesperline_(bytesperline) {
  open();
}

void X264Encoder::open() {
  const EncoderSettings& s = s_;
  param_ = x264_param_t{};
  // ultrafast + zerolatency: zerolatency turns off B-frames, lookahead,
  // mb-tree and frame threads, so every call returns the frame just given.
  if (x264_param_default_preset(&param_, "ultrafast", "zerolatency") < 0) {
    throw DeviceError(device_, kOpen, "x264_param_default_preset failed");
  }
  param_.i_csp = X264_CSP_I420;
  param_.i_width = static_cast<int>(s.width);
  param_.i_height = static_cast<int>(s.height);
  param_.i_fps_num = s.fpsNumerator;
  param_.i_fps_den = s.fpsDenominator;
  param_.i_timebase_num = s.fpsDenominator;
  param_.i_timebase_den = s.fpsNumerator;
  // Frame timing comes from the camera, not from pts: constant-rate input.
  param_.b_vfr_input = 0;
  // Two slice threads: a frame is split across cores without adding a frame
  // of delay (frame threads would); the board's other core serves JS.
  param_.i_threads = 2;
  param_.b_sliced_threads = 1;
  param_.i_bframe = 0;
  param_.rc.i_lookahead = 0;
  param_.i_sync_lookahead = 0;
  param_.i_keyint_max = static_cast<int>(s.keyframeInterval);
  param_.i_keyint_min = static_cast<int>(s.keyframeInterval);
  param_.b_intra_refresh = 0;
  param_.b_repeat_headers = 1;  // SPS/PPS in front of every IDR
  param_.b_annexb = 1;          // start codes, as the V4L2 encoder gives
  param_.b_aud = 0;
  param_.i_log_level = X264_LOG_NONE;
  param_.i_level_idc = static_cast<int>(
      s.levelIdc ? s.levelIdc
                 : pickLevelIdc(s.width, s.height, double(s.fpsNumerator) / s.fpsDenominator));
  applyRateControl(param_, s.bitrateKbps);
  applyFrameRate(param_);
  const char* profile = "baseline";
  if (s.profile == H264Profile::Main) profile = "main";
  if (s.profile == H264Profile::High) profile = "high";
  if (x264_param_apply_profile(&param_, profile) < 0) {
    throw DeviceError(device_, kOpen,
                      std::string("x264_param_apply_profile(") + profile + ") failed");
  }
  if (s.profile == H264Profile::ConstrainedBaseline || s.profile == H264Profile::Baseline) {
    // x264's "baseline" already avoids FMO/ASO/redundant slices, i.e. it is
    // Constrained Baseline (it writes constraint_set1_flag=1).
    param_.b_cabac = 0;
  }
  enc_ = x264_encoder_open(&param_);
  if (enc_ == nullptr) throw DeviceError(device_, kOpen, "x264_encoder_open failed");
  if (x264_picture_alloc(&pic_, X264_CSP_I420, param_.i_width, param_.i_height) < 0) {
    x264_encoder_close(enc_);
    enc_ = nullptr;
    throw DeviceError(device_, kOpen, "x264_picture_alloc failed");
  }
}

X264Encoder::~X264Encoder() { close(); }

void X264Encoder::close() noexcept {
  if (enc_ != nullptr) {
    x264_picture_clean(&pic_);
    x264_encoder_close(enc_);
    enc_ = nullptr;
  }
}

bool X264Encoder::resize(const CaptureFormat& input, const FrameSource&) {
  close();
  s_.width = input.width;
  s_.height = input.height;
  fourcc_ = input.fourcc;
  bytesperline_ = input.bytesperline;
  pts_ = 0;
  forceIdrNext_ = true;
  open();
  return false;
}

bool X264Encoder::accepts(uint32_t f) {
  return f == V4L2_PIX_FMT_YUYV || f == V4L2_PIX_FMT_NV12 || f == V4L2_PIX_FMT_YUV420;
}

void X264Encoder::applyRateControl(x264_param_t& p, uint32_t kbps) const {
  p.rc.i_rc_method = X264_RC_ABR;
  p.rc.i_bitrate = static_cast<int>(kbps);
  if (s_.cbr) {
    // VBV capped at the target rate with a quarter of a second of buffer:
    // near-CBR output without the size spikes that stall a congested link.
    // The buffer bounds an IDR, and an IDR crosses a link the encoder fills
    // to ~0.85 in about that long: with half a second, each IDR asked for
    // under a cap (a PLI, the end of a drain) held the picture ~0.2-0.3 s
    // (docs/congestion.md "Where the freeze time went"); libwebrtc bounds a
    // key frame to a few frames' worth likewise (max intra bitrate).
    p.rc.i_vbv_max_bitrate = static_cast<int>(kbps);
    p.rc.i_vbv_buffer_size = static_cast<int>(std::max(1u, kbps / 4));
  } else {
    p.rc.i_vbv_max_bitrate = static_cast<int>(kbps * 2);
    p.rc.i_vbv_buffer_size = static_cast<int>(kbps);
  }
}

void X264Encoder::setBitrate(uint32_t kbps) {
  s_.bitrateKbps = kbps;
  applyRateControl(param_, kbps);
  applyFrameRate(param_);
  reconfigure("bitrate change refused");
}

// x264 (0.164) cannot be told a new frame rate: x264_encoder_reconfig does
// not take i_fps_num/i_fps_den, and with zerolatency (no lookahead) even
// VFR input gives every frame the nominal 1/fps duration. Its ABR and VBV
// spend bitrate/fps per frame, so at fewer frames a second than it was
// opened for it would send that much less. It is told the rate scaled by
// opened/actual fps instead: the bits per frame the target affords at the
// actual rate. The VBV buffer is bits, not a rate, and stays as it is.
void X264Encoder::applyFrameRate(x264_param_t& p) const {
  const double opened = double(s_.fpsNumerator) / s_.fpsDenominator;
  if (!(fps_ > 0) || fps_ >= opened) return;
  const double scale = opened / fps_;
  p.rc.i_bitrate = static_cast<int>(p.rc.i_bitrate * scale + 0.5);
  p.rc.i_vbv_max_bitrate = static_cast<int>(p.rc.i_vbv_max_bitrate * scale + 0.5);
}

void X264Encoder::setFrameRate(uint32_t fpsNum, uint32_t fpsDen) {
  fps_ = fpsDen ? double(fpsNum) / fpsDen : 0;
  applyRateControl(param_, s_.bitrateKbps);
  applyFrameRate(param_);
  reconfigure("frame rate change refused");
}

void X264Encoder::reconfigure(const char* what) {
  if (enc_ == nullptr) throw DeviceError(device_, kOpen, "not open (a resize failed)");
  if (x264_encoder_reconfig(enc_, &param_) != 0) {
    throw DeviceError(device_, "x264_encoder_reconfig", what);
  }
}

bool X264Encoder::start(const FrameSource&) {
  forceIdrNext_ = true;
  return false;  // frames are converted into x264's own picture: never in place
}

bool X264Encoder::convert(const uint8_t* src, uint32_t bytesused) {
  const int w = param_.i_width, h = param_.i_height;
  const int stride = static_cast<int>(bytesperline_);
  uint8_t* y = pic_.img.plane[0];
  uint8_t* u = pic_.img.plane[1];
  uint8_t* v = pic_.img.plane[2];
  const int ys = pic_.img.i_stride[0], us = pic_.img.i_stride[1], vs = pic_.img.i_stride[2];
  const size_t lumaSize = size_t(stride) * h;
  switch (fourcc_) {
    case V4L2_PIX_FMT_YUYV:
      if (bytesused < lumaSize) return false;
      return libyuv::YUY2ToI420(src, stride, y, ys, u, us, v, vs, w, h) == 0;
    case V4L2_PIX_FMT_NV12:
      if (bytesused < lumaSize + size_t(stride) * ((h + 1) / 2)) return false;
      return libyuv::NV12ToI420(src, stride, src + lumaSize, stride, y, ys, u, us, v, vs, w, h) ==
             0;
    case V4L2_PIX_FMT_YUV420: {
      const int cstride = stride / 2;
      const size_t chromaSize = size_t(cstride) * ((h + 1) / 2);
      if (bytesused < lumaSize + 2 * chromaSize) return false;
      return libyuv::I420Copy(src, stride, src + lumaSize, cstride, src + lumaSize + chromaSize,
                              cstride, y, ys, u, us, v, vs, w, h) == 0;
    }
    default:
      return false;
  }
}

bool X264Encoder::encodePicture(const uint8_t* data, uint32_t bytesused, EncodedUnit& out) {
  if (enc_ == nullptr || !convert(data, bytesused)) return false;
  pic_.i_pts = pts_++;
  pic_.i_type = forceIdrNext_ ? X264_TYPE_IDR : X264_TYPE_AUTO;
  x264_nal_t* nals = nullptr;
  int nnal = 0;
  x264_picture_t picOut;
  const int size = x264_encoder_encode(enc_, &nals, &nnal, &pic_, &picOut);
  if (size <= 0 || nnal <= 0) return false;
  // x264 lays the NAL payloads out back to back in one buffer, which it reuses
  // for the next picture: copy the access unit out.
  out.data.assign(nals[0].p_payload, nals[0].p_payload + size);
  out.keyframe = picOut.b_keyframe != 0;
  return true;
}

bool X264Encoder::encode(const CapturedBuffer& b) {
  const int64_t t0 = ClockMap::monotonicUs();
  EncodedUnit u{};
  const bool ok = encodePicture(b.data, b.bytesused, u);
  u.encodeTimeUs = double(ClockMap::monotonicUs() - t0);
  inputDone(b.index);
  if (!ok) return false;
  forceIdrNext_ = false;
  u.captureTimeUs = timevalUs(b.timestamp);
  outputReady(std::move(u));
  return true;
}

}  // namespace camgw
