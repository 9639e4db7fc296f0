// The pipeline's worker thread: poll() on the camera, the encoder and the
// wake eventfd; move frames camera -> encoder -> queue; apply requests.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "pipeline.h"

namespace camgw {

namespace {
int64_t tvUs(const timeval& t) { return int64_t(t.tv_sec) * 1000000 + t.tv_usec; }
}  // namespace

bool containsIdr(const uint8_t* p, size_t n) {
  for (size_t i = 0; i + 3 < n; i++) {
    if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && (p[i + 3] & 0x1f) == 5) return true;
  }
  return false;
}

void Pipeline::applyCommands() {
  uint32_t kbps;
  bool key;
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    kbps = pendingBitrate_;
    key = pendingKey_;
    pendingBitrate_ = 0;
    pendingKey_ = false;
  }
  if (key) {
    forceIdrNext_ = true;
    if (neg_.encoder == EncoderMode::Passthrough) {
      // UVC H.264 cameras: an IDR is requested through the UVC extension unit
      // (UVCX_PICTURE_TYPE_CONTROL), which uvcvideo does not map to a V4L2
      // control; a driver that exposes FORCE_KEY_FRAME gets it, others wait
      // for their own GOP.
      camera_->forceKeyFrame();
      forceIdrNext_ = false;
    }
  }
  if (kbps) {
    try {
      if (hw_) hw_->setBitrate(kbps);
      if (sw_ && !sw_->setBitrate(kbps)) {
        throw DeviceError(opts_.device, "x264_encoder_reconfig", "bitrate change refused");
      }
      if (neg_.encoder == EncoderMode::Passthrough) {
        v4l2_control c{V4L2_CID_MPEG_VIDEO_BITRATE, static_cast<int32_t>(kbps * 1000)};
        CAMGW_IOCTL(camera_->fd(), opts_.device, VIDIOC_S_CTRL, &c);
      }
    } catch (const DeviceError& e) {
      if (e.isUnplug()) throw;
      events_.error(e, false);
    }
  }
}

void Pipeline::deliver(std::vector<uint8_t>&& data, int64_t monotonicUs, bool keyframe) {
  EncodedFrame f{std::move(data), clock_.toRealtimeUs(monotonicUs), keyframe, neg_.width,
                 neg_.height};
  if (queue_.push(std::move(f))) {
    // Frames were dropped: the next decodable frame must be an IDR.
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingKey_ = true;
  }
  events_.framesReady();
}

void Pipeline::onCameraFrame(const CapturedBuffer& b) {
  captured_++;
  const int64_t ts = tvUs(b.timestamp);
  if (b.bytesused == 0) {  // V4L2_BUF_FLAG_ERROR or empty: nothing to encode
    skipped_++;
    camera_->requeue(b.index);
    camQueued_++;
    return;
  }
  if (neg_.encoder == EncoderMode::Passthrough) {
    std::vector<uint8_t> au(b.data, b.data + b.bytesused);
    const bool key = b.keyframe || containsIdr(au.data(), au.size());
    camera_->requeue(b.index);
    camQueued_++;
    encoded_++;
    deliver(std::move(au), ts, key);
    return;
  }
  if (sw_) {
    const int64_t t0 = ClockMap::monotonicUs();
    std::vector<uint8_t> au;
    bool key = false;
    const bool ok = sw_->encode(b.data, b.bytesused, forceIdrNext_, au, key);
    camera_->requeue(b.index);
    camQueued_++;
    if (!ok) {
      skipped_++;
      return;
    }
    forceIdrNext_ = false;
    encoded_++;
    recordEncodeTime(double(ClockMap::monotonicUs() - t0));
    deliver(std::move(au), ts, key);
    return;
  }
  // Hardware: ask for the IDR before queuing the frame that should carry it.
  if (forceIdrNext_) {
    hw_->forceKeyFrame();
    forceIdrNext_ = false;
  }
  bool ok;
  if (hw_->usesDmabuf()) {
    ok = hw_->queueDmabuf(b.index, camera_->dmabufFd(b.index),
                          static_cast<uint32_t>(camera_->bufferLength(b.index)), b.bytesused,
                          b.timestamp);
    if (!ok) {
      camera_->requeue(b.index);
      camQueued_++;
    }
  } else {
    ok = hw_->queueCopy(b.data, b.bytesused, b.timestamp);
    camera_->requeue(b.index);
    camQueued_++;
  }
  if (!ok) {
    skipped_++;  // the encoder has fallen behind: skip rather than wait
    return;
  }
  inFlight_.emplace_back(ts, ClockMap::monotonicUs());
  if (inFlight_.size() > 64) inFlight_.pop_front();
}

void Pipeline::drainEncoder() {
  uint32_t slot;
  while (hw_->reclaimInput(slot)) {
    if (hw_->usesDmabuf()) {
      camera_->requeue(slot);
      camQueued_++;
    }
  }
  EncodedUnit u;
  while (hw_->dequeueOutput(u)) {
    int64_t ts = tvUs(u.timestamp);
    const int64_t now = ClockMap::monotonicUs();
    // The driver copies the OUTPUT timestamp (V4L2_BUF_FLAG_TIMESTAMP_COPY);
    // match it to when we queued that frame. Fall back to FIFO order.
    auto it = std::find_if(inFlight_.begin(), inFlight_.end(),
                           [ts](const std::pair<int64_t, int64_t>& e) { return e.first == ts; });
    if (it == inFlight_.end() && !inFlight_.empty()) {
      it = inFlight_.begin();
      ts = it->first;
    }
    if (it != inFlight_.end()) {
      recordEncodeTime(double(now - it->second));
      inFlight_.erase(inFlight_.begin(), it + 1);
    }
    encoded_++;
    const bool key = u.keyframe || containsIdr(u.data.data(), u.data.size());
    deliver(std::move(u.data), ts, key);
  }
}

bool Pipeline::cameraGone() {
  v4l2_capability cap{};
  return xioctl(camera_->fd(), VIDIOC_QUERYCAP, &cap) == -1 && (errno == ENODEV || errno == ENXIO);
}

void Pipeline::loop() {
  clock_.refresh();
  while (!stopRequested_) {
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {wakeFd_.get(), POLLIN, 0};
    int camAt = -1, encAt = -1;
    // vb2 reports POLLERR on a capture queue with no buffers queued, so the
    // camera is only watched while it has somewhere to put a frame.
    if (camQueued_ > 0) {
      camAt = static_cast<int>(n);
      fds[n++] = {camera_->fd(), POLLIN, 0};
    }
    if (hw_) {
      encAt = static_cast<int>(n);
      fds[n++] = {hw_->fd(), POLLIN | POLLOUT, 0};
    }
    // The timeout only paces the clock-offset refresh; frames wake us.
    const int r = poll(fds, n, 1000);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw DeviceError(opts_.device, "poll", errno);
    }
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      ssize_t rr = read(wakeFd_.get(), &v, sizeof v);
      (void)rr;
    }
    if (stopRequested_) break;
    applyCommands();
    bool progressed = (fds[0].revents & POLLIN) != 0;
    if (camAt >= 0 && fds[camAt].revents) {
      CapturedBuffer b{};
      try {
        while (camera_->dequeue(b)) {
          camQueued_--;
          progressed = true;
          eioSinceUs_ = 0;
          onCameraFrame(b);
        }
      } catch (const DeviceError& e) {
        // EIO from DQBUF: one frame failed (a USB transfer error on uvcvideo);
        // the buffer stays queued. Count it and go on, unless nothing but EIO
        // has come for a second: then the device is broken, not glitching.
        if (e.err() != EIO) throw;
        skipped_++;
        const int64_t now = ClockMap::monotonicUs();
        if (eioSinceUs_ == 0) eioSinceUs_ = now;
        if (now - eioSinceUs_ > 1000000) throw;
      }
      if ((fds[camAt].revents & (POLLERR | POLLHUP | POLLNVAL)) && cameraGone()) {
        throw DeviceError(opts_.device, "poll", ENODEV);
      }
    }
    if (encAt >= 0 && fds[encAt].revents) {
      const uint64_t before = encoded_;
      drainEncoder();
      progressed = progressed || encoded_ != before;
      if (fds[encAt].revents & (POLLERR | POLLHUP | POLLNVAL)) {
        v4l2_capability cap{};
        if (xioctl(hw_->fd(), VIDIOC_QUERYCAP, &cap) == -1 && errno == ENODEV) {
          throw DeviceError(hw_->path(), "poll", ENODEV);
        }
      }
    }
    if (r > 0 && !progressed) {
      // A queue signalled an event with nothing to take (e.g. POLLERR while
      // the encoder holds every buffer): back off briefly instead of spinning.
      pollfd w{wakeFd_.get(), POLLIN, 0};
      poll(&w, 1, 5);
    }
    clock_.maybeRefresh();
  }
  if (hw_) hw_->drain(200);
}

void Pipeline::run() {
  try {
    loop();
  } catch (const DeviceError& e) {
    if (e.isUnplug() || (camera_ && cameraGone())) {
      events_.unplugged();
    } else {
      events_.error(e, true);
    }
  } catch (const std::exception& e) {
    events_.error(DeviceError(opts_.device, "capture", e.what()), true);
  }
}

}  // namespace camgw
