#include "m2m_encoder.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "clock_map.h"
#include "device_error.h"

namespace camgw {

namespace {
// How many queued frames to remember for matching. The encoder holds at most
// one per OUTPUT slot (3, or one per camera buffer: 4), so an entry older than
// this is a frame the driver dropped without output; forget it.
constexpr size_t kMaxInFlight = 64;
// V4L2_ENC_CMD_STOP until V4L2_BUF_FLAG_LAST: bcm2835-codec gives it within a
// frame or two; the bound keeps a stuck encoder from holding up stop().
constexpr int kDrainTimeoutMs = 200;
}  // namespace

M2mEncoder::M2mEncoder(const std::string& path, const EncoderSettings& s,
                       const CaptureFormat& input, bool zeroCopy)
    : device_(path, s), input_(input), zeroCopy_(zeroCopy) {
  device_.configure(input.fourcc, input.bytesperline);
  // DMABUF: the encoder reads the camera's buffers in place (no copy of a
  // whole frame per frame) when both layouts agree and both drivers allow it.
  importsCamera_ = zeroCopy_ && device_.layoutMatches(input.bytesperline, input.sizeimage);
}

bool M2mEncoder::importsDmabuf() const { return importsCamera_; }

InputLayout M2mEncoder::inputLayout() const {
  const uint32_t bpl = device_.outputBytesperline();
  return {bpl, bpl ? device_.outputSizeimage() * 2 / (3 * bpl) : 0};
}

bool M2mEncoder::resize(const CaptureFormat& input, const FrameSource& source) {
  const bool started = device_.streaming();
  if (started) {
    finish();
    // OUTPUT buffers the drain did not give back come back with STREAMOFF:
    // the camera buffers among them go back to the camera.
    const std::vector<uint32_t> held =
        device_.usesDmabuf() ? device_.heldInputs() : std::vector<uint32_t>{};
    device_.stop();
    for (uint32_t slot : held) inputDone(slot);
  }
  input_ = input;
  device_.setSize(input.width, input.height);
  device_.configure(input.fourcc, input.bytesperline);
  return started ? start(source) : false;
}

void M2mEncoder::finish() {
  if (!device_.beginDrain()) return;
  const int64_t deadline = ClockMap::monotonicUs() + int64_t(kDrainTimeoutMs) * 1000;
  while (!device_.sawLast()) {
    const int64_t left = deadline - ClockMap::monotonicUs();
    if (left <= 0) return;
    pollfd p{device_.fd(), POLLIN | POLLOUT, 0};
    const int r = poll(&p, 1, static_cast<int>(left / 1000) + 1);
    if (r < 0 && errno != EINTR) return;
    if (r > 0) onPollEvents(p.revents);
  }
}

bool M2mEncoder::start(const FrameSource& source) {
  // Frames of another layout than the camera's (scaled) are never imported.
  const bool dmabuf = source.dmabuf &&
                      device_.layoutMatches(input_.bytesperline, input_.sizeimage) &&
                      device_.start(source.bufferCount);
  if (!dmabuf) device_.start(0);
  forceIdrNext_ = true;
  inFlight_.clear();
  return dmabuf;
}

void M2mEncoder::drain() noexcept { device_.drain(kDrainTimeoutMs); }

bool M2mEncoder::encode(const CapturedBuffer& b) {
  // Ask for the IDR before queuing the frame that should carry it.
  if (forceIdrNext_) {
    device_.forceKeyFrame();
    forceIdrNext_ = false;
  }
  bool queued;
  if (device_.usesDmabuf()) {
    // Queued, the camera buffer is the encoder's until its OUTPUT slot comes
    // back (onPollEvents).
    queued = device_.queueDmabuf(b.index, b.dmabufFd, static_cast<uint32_t>(b.length), b.bytesused,
                                 b.timestamp);
    if (!queued) inputDone(b.index);
  } else {
    queued = device_.queueCopy(b.data, b.bytesused, b.timestamp);
    inputDone(b.index);  // copied (or skipped): the camera may refill it
  }
  if (!queued) return false;  // the encoder has fallen behind: skip rather than wait
  inFlight_.emplace_back(timevalUs(b.timestamp), ClockMap::monotonicUs());
  if (inFlight_.size() > kMaxInFlight) inFlight_.pop_front();
  return true;
}

void M2mEncoder::onPollEvents(short revents) {
  uint32_t slot;
  while (device_.reclaimInput(slot)) {
    if (device_.usesDmabuf()) inputDone(slot);
  }
  CodedBuffer c;
  while (device_.dequeueOutput(c)) {
    int64_t ts = timevalUs(c.timestamp);
    double encodeUs = -1;
    // The driver copies the OUTPUT timestamp (V4L2_BUF_FLAG_TIMESTAMP_COPY);
    // match it to when we queued that frame. Fall back to FIFO order.
    auto it = std::find_if(inFlight_.begin(), inFlight_.end(),
                           [ts](const std::pair<int64_t, int64_t>& e) { return e.first == ts; });
    if (it == inFlight_.end() && !inFlight_.empty()) {
      it = inFlight_.begin();
      ts = it->first;
    }
    if (it != inFlight_.end()) {
      encodeUs = double(ClockMap::monotonicUs() - it->second);
      inFlight_.erase(inFlight_.begin(), it + 1);
    }
    const bool key = c.keyframe || containsIdr(c.data.data(), c.data.size());
    outputReady(EncodedUnit{std::move(c.data), ts, key, encodeUs});
  }
  if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
    v4l2_capability cap{};
    if (xioctl(device_.fd(), VIDIOC_QUERYCAP, &cap) == -1 && errno == ENODEV) {
      throw DeviceError(device_.path(), "poll", ENODEV);
    }
  }
}

}  // namespace camgw
