// The bounded queue between the worker thread and JavaScript.
//
// The worker never blocks on JS (DESIGN.md): when the queue is full, the
// oldest frames are dropped up to the next key frame (a decoder can resume
// there), and until a key frame arrives again every non-key frame is dropped
// too, because it would reference pictures the viewer never got. The caller
// asks the encoder for a key frame when push() reports a drop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

#include "encoded_frame.h"

namespace camgw {

class FrameQueue {
 public:
  explicit FrameQueue(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Returns true when frames were dropped (so a key frame should be requested).
  bool push(EncodedFrame&& f);
  // Moves every queued frame out (called on the JS thread).
  std::deque<EncodedFrame> takeAll();
  void clear();

  size_t depth() const;
  uint64_t dropped() const;

 private:
  mutable std::mutex mu_;
  std::deque<EncodedFrame> q_;
  size_t capacity_;
  uint64_t dropped_ = 0;
  bool awaitingKey_ = false;
};

}  // namespace camgw
