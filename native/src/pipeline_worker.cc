// The pipeline's worker thread: poll() on the camera, the encoder and the
// wake eventfd; move frames camera -> encoder -> queue; apply requests.
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "pipeline.h"

namespace camgw {

void Pipeline::applyCommands() {
  uint32_t kbps, width, height;
  bool key;
  double fps;
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    width = pendingWidth_;
    height = pendingHeight_;
    pendingWidth_ = pendingHeight_ = 0;
    kbps = pendingBitrate_;
    key = pendingKey_;
    fps = pendingFps_;
    pendingBitrate_ = 0;
    pendingKey_ = false;
    pendingFps_ = 0;
  }
  // First: a bitrate, rate or key frame asked with it is the new encoder's.
  if (width) applySize(width, height);
  if (fps > 0) {
    const double camera = double(neg_.fpsNumerator) / neg_.fpsDenominator;
    decimator_.setRate(fps, camera);
    // Milli-frames a second: 7.5 (a 15 fps camera halved) stays exact.
    const bool full = !decimator_.decimating();
    const uint32_t num = full ? neg_.fpsNumerator : static_cast<uint32_t>(fps * 1000 + 0.5);
    const uint32_t den = full ? neg_.fpsDenominator : 1000;
    try {
      encoder_->setFrameRate(num, den);
    } catch (const DeviceError& e) {
      if (e.isUnplug()) throw;
      events_.error(e, false);
    }
  }
  if (key) {
    encoder_->requestKeyFrame();
    // At a low frame rate the next camera frame carries the IDR, not the next one due.
    decimator_.passNext();
  }
  if (kbps) {
    try {
      encoder_->setBitrate(kbps);
    } catch (const DeviceError& e) {
      if (e.isUnplug()) throw;
      events_.error(e, false);
    }
  }
  applyLayerCommands();
}

void Pipeline::applySize(uint32_t width, uint32_t height) {
  const uint32_t oldWidth = encodedWidth_, oldHeight = encodedHeight_;
  if (width == oldWidth && height == oldHeight) return;
  try {
    resizeEncoder(width, height);
  } catch (const DeviceError& e) {
    if (e.isUnplug()) throw;
    // Refused: back to the size it had, which worked (if that fails too,
    // the encoder is gone and the pipeline stops: a fatal error).
    resizeEncoder(oldWidth, oldHeight);
    events_.error(e, false);
  }
  // The new size's IDR rides the next camera frame, whatever the frame rate.
  decimator_.passNext();
}

void Pipeline::applyLayerCommands() {
  std::unique_ptr<EncodingLayer> replaced;
  uint32_t kbps;
  bool key;
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    if (pendingLayerSet_) {
      replaced = std::move(layer_);
      layer_ = std::move(pendingLayer_);
      pendingLayerSet_ = false;
    }
    kbps = pendingLayerBitrate_;
    key = pendingLayerKey_;
    pendingLayerBitrate_ = 0;
    pendingLayerKey_ = false;
  }
  // The old layer's encoder closes here, on the worker that used it.
  replaced.reset();
  layerMode_ = layer_ ? static_cast<int>(layer_->encoder()) : -1;
  if (!layer_) return;
  if (key) layer_->requestKeyFrame();
  if (kbps) {
    try {
      layer_->setBitrate(kbps);
    } catch (const DeviceError& e) {
      if (e.isUnplug()) throw;
      events_.error(e, false);
    }
  }
}

void Pipeline::onCameraFrame(const CapturedBuffer& b) {
  cameraSequence_ = b.sequence;
  captured_++;
  if (b.bytesused == 0) {  // V4L2_BUF_FLAG_ERROR or empty: nothing to encode
    skipped_++;
    requeueCamera(b.index);
    return;
  }
  // Before the encoder: it may hand the buffer back to the camera at once.
  if (tap_ && tap_->wanted()) tap_->offer(b, clock_.toRealtimeUs(b.timestamp));
  // The layer scales the frame before the main encoder may hand it back.
  // A layer that fails drops out (the main encoding goes on) and says why.
  if (layer_) {
    try {
      layer_->encode(b);
    } catch (const DeviceError& e) {
      if (e.isUnplug() && cameraGone()) throw;
      layer_.reset();
      layerMode_ = -1;
      events_.error(e, false);
    }
  }
  if (!decimator_.keep(timevalUs(b.timestamp))) {
    decimated_++;
    requeueCamera(b.index);
    return;
  }
  if (scaler_) {
    // A size step: the encoder gets the scaled copy, the camera its buffer back.
    const bool scaled = scaler_->scale(b);
    requeueCamera(b.index);
    if (!scaled || !encoder_->encode(scaler_->frame(b.timestamp))) skipped_++;
    return;
  }
  if (!encoder_->encode(b)) skipped_++;
}

void Pipeline::requeueCamera(uint32_t index) {
  camera_->requeue(index);
  camQueued_++;
}

void Pipeline::onEncoded(EncodedUnit&& u) {
  encoded_++;
  if (u.encodeTimeUs >= 0) recordEncodeTime(u.encodeTimeUs);
  EncodedFrame f{std::move(u.data), clock_.toRealtimeUs(u.captureTimeUs), u.keyframe, encodedWidth_,
                 encodedHeight_};
  if (queue_.push(std::move(f))) {
    // Frames were dropped: the next decodable frame must be an IDR.
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingKey_ = true;
  }
  events_.framesReady();
}

void Pipeline::onLayerEncoded(EncodedUnit&& u) {
  layerEncoded_++;
  EncodedFrame f{std::move(u.data),
                 clock_.toRealtimeUs(u.captureTimeUs),
                 u.keyframe,
                 layer_ ? layer_->width() : 0,
                 layer_ ? layer_->height() : 0,
                 1};
  if (layerQueue_.push(std::move(f))) {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingLayerKey_ = true;
  }
  events_.framesReady();
}

bool Pipeline::cameraGone() {
  v4l2_capability cap{};
  return xioctl(camera_->fd(), VIDIOC_QUERYCAP, &cap) == -1 && (errno == ENODEV || errno == ENXIO);
}

void Pipeline::loop() {
  clock_.refresh();
  while (!stopRequested_) {
    pollfd fds[4];
    nfds_t n = 0;
    fds[n++] = {wakeFd_.get(), POLLIN, 0};
    int camAt = -1, encAt = -1, layerAt = -1;
    // vb2 reports POLLERR on a capture queue with no buffers queued, so the
    // camera is only watched while it has somewhere to put a frame.
    if (camQueued_ > 0) {
      camAt = static_cast<int>(n);
      fds[n++] = {camera_->fd(), POLLIN, 0};
    }
    // An asynchronous encoder: POLLOUT for its returned inputs, POLLIN for output.
    if (encoder_->pollFd() >= 0) {
      encAt = static_cast<int>(n);
      fds[n++] = {encoder_->pollFd(), POLLIN | POLLOUT, 0};
    }
    if (layer_ && layer_->pollFd() >= 0) {
      layerAt = static_cast<int>(n);
      fds[n++] = {layer_->pollFd(), POLLIN | POLLOUT, 0};
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
      encoder_->onPollEvents(fds[encAt].revents);
      progressed = progressed || encoded_ != before;
    }
    // The layer may have been replaced by applyCommands() since the poll:
    // its events then belong to an encoder already closed.
    if (layerAt >= 0 && fds[layerAt].revents && layer_ && layer_->pollFd() == fds[layerAt].fd) {
      const uint64_t before = layerEncoded_;
      try {
        layer_->onPollEvents(fds[layerAt].revents);
      } catch (const DeviceError& e) {
        layer_.reset();
        layerMode_ = -1;
        events_.error(e, false);
      }
      progressed = progressed || layerEncoded_ != before;
    }
    if (r > 0 && !progressed) {
      // A queue signalled an event with nothing to take (e.g. POLLERR while
      // the encoder holds every buffer): back off briefly instead of spinning.
      pollfd w{wakeFd_.get(), POLLIN, 0};
      poll(&w, 1, 5);
    }
    clock_.maybeRefresh();
  }
  encoder_->drain();
}

void Pipeline::run() {
  // Snapshots waiting on a worker that is about to end fail now, not at their timeout.
  struct TapStopper {
    RawFrameTap* tap;
    ~TapStopper() {
      if (tap) tap->setRunning(false);
    }
  } tapStopper{tap_.get()};
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
