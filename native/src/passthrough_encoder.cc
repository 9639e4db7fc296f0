#include "passthrough_encoder.h"

#include <linux/videodev2.h>

#include <utility>

#include "clock_map.h"
#include "device_error.h"
#include "v4l2_util.h"

namespace camgw {

bool PassthroughEncoder::encode(const CapturedBuffer& b) {
  EncodedUnit u{};
  u.data.assign(b.data, b.data + b.bytesused);
  // Not every driver flags key frames (V4L2_BUF_FLAG_KEYFRAME); the bytes
  // say it for every camera.
  u.keyframe = b.keyframe || containsIdr(u.data.data(), u.data.size());
  u.captureTimeUs = timevalUs(b.timestamp);
  u.encodeTimeUs = -1;  // nothing was encoded here
  inputDone(b.index);
  outputReady(std::move(u));
  return true;
}

void PassthroughEncoder::setBitrate(uint32_t kbps) {
  v4l2_control c{V4L2_CID_MPEG_VIDEO_BITRATE, static_cast<int32_t>(kbps * 1000)};
  CAMGW_IOCTL(camera_.fd(), camera_.path(), VIDIOC_S_CTRL, &c);
}

void PassthroughEncoder::requestKeyFrame() {
  // UVC H.264 cameras: an IDR is requested through the UVC extension unit
  // (UVCX_PICTURE_TYPE_CONTROL), which uvcvideo does not map to a V4L2
  // control; a driver that exposes FORCE_KEY_FRAME gets it, others wait for
  // their own GOP.
  camera_.forceKeyFrame();
}

bool PassthroughEncoder::resize(const CaptureFormat&, const FrameSource&) {
  throw DeviceError(camera_.path(), "resize",
                    "the camera's own H.264 cannot be scaled (it gives no raw frames)");
}

}  // namespace camgw
