#include "raw_frame_tap.h"

#include <chrono>

namespace camgw {

void RawFrameTap::setLayout(uint32_t width, uint32_t height, uint32_t fourcc,
                            uint32_t bytesperline) {
  std::lock_guard<std::mutex> l(mu_);
  width_ = width;
  height_ = height;
  fourcc_ = fourcc;
  bytesperline_ = bytesperline;
}

void RawFrameTap::setRunning(bool running) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (running_ && !running) stops_++;
    running_ = running;
    if (!running) latest_.reset();
  }
  cv_.notify_all();
}

std::shared_ptr<const RawFrame> RawFrameTap::wait(int timeoutMs, TapFailure& why) {
  std::unique_lock<std::mutex> l(mu_);
  if (!running_) {
    why = TapFailure::NotRunning;
    return nullptr;
  }
  const uint64_t gen = generation_;
  const uint64_t stops = stops_;
  waiters_++;
  const bool came = cv_.wait_for(l, std::chrono::milliseconds(timeoutMs),
                                 [&] { return generation_ != gen || stops_ != stops; });
  waiters_--;
  if (stops_ != stops) {
    why = TapFailure::Stopped;
    return nullptr;
  }
  if (!came || !latest_) {
    why = TapFailure::Timeout;
    return nullptr;
  }
  why = TapFailure::None;
  return latest_;
}

void RawFrameTap::offer(const CapturedBuffer& b, int64_t captureTimeRealtimeUs) {
  // The copy happens outside the lock: waiters only read `latest_` after
  // the generation moves, which happens below under the lock.
  auto f = std::make_shared<RawFrame>();
  f->data.assign(b.data, b.data + b.bytesused);
  f->captureTimeUs = captureTimeRealtimeUs;
  {
    std::lock_guard<std::mutex> l(mu_);
    f->width = width_;
    f->height = height_;
    f->fourcc = fourcc_;
    f->bytesperline = bytesperline_;
    latest_ = std::move(f);
    generation_++;
  }
  cv_.notify_all();
}

}  // namespace camgw
