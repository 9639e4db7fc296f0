// Where a snapshot gets its raw frame: a caller on another thread asks with
// wait(); the pipeline's worker, which checks wanted() on every captured
// frame (one relaxed atomic load, so streaming costs nothing while nobody
// asks), copies the next frame in and wakes every waiter. Waiting for the
// next frame rather than keeping the last one means the worker copies
// nothing while nobody asks, and a snapshot is never older than one frame
// interval plus the JPEG encode.
//
// Shared (std::shared_ptr) between the pipeline and the snapshot jobs, so a
// job still waiting when the pipeline closes holds a tap, not a dangling
// pipeline: close() cancels it and the job fails with `stopped`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "captured_buffer.h"
#include "raw_frame.h"

namespace camgw {

// Why no raw frame came: what native/lib turns into SnapshotError's reason.
enum class TapFailure { None, NotRunning, Timeout, Stopped };

class RawFrameTap {
 public:
  // The frame layout the worker's buffers have; set before frames flow.
  void setLayout(uint32_t width, uint32_t height, uint32_t fourcc, uint32_t bytesperline);

  // Blocks up to `timeoutMs` for the next captured frame. Returns it, shared
  // by every caller that waited for the same frame, or null with `why`.
  std::shared_ptr<const RawFrame> wait(int timeoutMs, TapFailure& why);

  // Worker side: whether anyone waits (cheap), and the frame that serves them.
  bool wanted() const { return waiters_.load(std::memory_order_relaxed) > 0; }
  void offer(const CapturedBuffer& b, int64_t captureTimeRealtimeUs);

  // The pipeline started / stopped: waiters fail at once while it is stopped.
  void setRunning(bool running);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> waiters_{0};
  bool running_ = false;
  uint64_t generation_ = 0;  // frames offered; a waiter takes the first after it asked
  uint64_t stops_ = 0;       // times the pipeline stopped; a waiter fails on a change
  std::shared_ptr<const RawFrame> latest_;
  uint32_t width_ = 0, height_ = 0, fourcc_ = 0, bytesperline_ = 0;
};

}  // namespace camgw
