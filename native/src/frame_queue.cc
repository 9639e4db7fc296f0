#include "frame_queue.h"

namespace camgw {

bool FrameQueue::push(EncodedFrame&& f) {
  std::lock_guard<std::mutex> lock(mu_);
  bool dropped = false;
  if (awaitingKey_ && !f.keyframe) {
    dropped_++;
    return true;
  }
  awaitingKey_ = false;
  if (q_.size() >= capacity_) {
    // Drop the oldest frame, then everything up to the next queued key frame.
    q_.pop_front();
    dropped_++;
    while (!q_.empty() && !q_.front().keyframe) {
      q_.pop_front();
      dropped_++;
    }
    dropped = true;
    // Nothing decodable is left queued: the incoming frame must be a key frame.
    if (q_.empty() && !f.keyframe) {
      awaitingKey_ = true;
      dropped_++;
      return true;
    }
  }
  q_.push_back(std::move(f));
  return dropped;
}

std::deque<EncodedFrame> FrameQueue::takeAll() {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<EncodedFrame> out;
  out.swap(q_);
  return out;
}

void FrameQueue::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  q_.clear();
  awaitingKey_ = false;
}

size_t FrameQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return q_.size();
}

uint64_t FrameQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

}  // namespace camgw
