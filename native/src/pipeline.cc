#include "pipeline.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "encoder_choice.h"

namespace camgw {

Pipeline::Pipeline(const PipelineOptions& o, PipelineEvents events)
    : opts_(o), events_(std::move(events)), queue_(o.queueDepth) {
  PipelineParts parts = openPipelineParts(o);
  camera_ = std::move(parts.camera);
  hw_ = std::move(parts.hw);
  sw_ = std::move(parts.sw);
  neg_ = parts.negotiated;
  const int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) throw DeviceError(o.device, "eventfd", errno);
  wakeFd_.reset(efd);
}

Pipeline::~Pipeline() { close(); }

void Pipeline::start() {
  if (closed_) throw DeviceError(opts_.device, "start", "pipeline is closed");
  if (running()) return;
  if (hw_) {
    // DMABUF: the encoder reads the camera's buffers in place (no copy of a
    // whole frame per frame) when both layouts agree and both drivers allow it.
    const bool tryDmabuf = opts_.zeroCopy && hw_->layoutMatches(camera_->format().bytesperline,
                                                                camera_->format().sizeimage);
    camera_->start(tryDmabuf);
    bool dmabuf = false;
    try {
      if (camera_->exported()) {
        dmabuf = hw_->start(static_cast<uint32_t>(camera_->bufferCount()));
      }
      if (!dmabuf) hw_->start(0);
    } catch (...) {
      camera_->stop();
      throw;
    }
    neg_.dmabuf = dmabuf;
  } else {
    camera_->start(false);
  }
  stopRequested_ = false;
  forceIdrNext_ = true;
  camQueued_ = static_cast<uint32_t>(camera_->bufferCount());
  inFlight_.clear();
  thread_ = std::thread([this] { run(); });
}

void Pipeline::stop() {
  if (thread_.joinable()) {
    stopRequested_ = true;
    wake();
    thread_.join();
  }
  if (hw_) hw_->stop();
  if (camera_) camera_->stop();
}

void Pipeline::close() {
  if (closed_) return;
  stop();
  closed_ = true;
  hw_.reset();
  sw_.reset();
  camera_.reset();
  wakeFd_.reset();
  queue_.clear();
}

void Pipeline::wake() {
  const uint64_t one = 1;
  if (wakeFd_) {
    ssize_t r = write(wakeFd_.get(), &one, sizeof one);
    (void)r;  // EAGAIN only if the counter is saturated: already awake
  }
}

void Pipeline::setBitrate(uint32_t kbps) {
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingBitrate_ = kbps;
  }
  wake();
}

void Pipeline::requestKeyFrame() {
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingKey_ = true;
  }
  wake();
}

std::deque<EncodedFrame> Pipeline::takeFrames() {
  std::deque<EncodedFrame> f = queue_.takeAll();
  delivered_ += f.size();
  return f;
}

PipelineStats Pipeline::stats() const {
  PipelineStats s{};
  s.captured = captured_;
  s.encoded = encoded_;
  s.delivered = delivered_;
  s.dropped = queue_.dropped() + skipped_;
  s.queueDepth = queue_.depth();
  std::lock_guard<std::mutex> l(statMu_);
  s.encodeTimeLastUs = encLast_;
  s.encodeTimeMeanUs = encCount_ ? encSum_ / double(encCount_) : 0;
  return s;
}

void Pipeline::recordEncodeTime(double us) {
  std::lock_guard<std::mutex> l(statMu_);
  encLast_ = us;
  encSum_ += us;
  encCount_++;
}

}  // namespace camgw
