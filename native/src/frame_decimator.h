// Which camera frames go to the main encoder when the stream runs at a
// lower frame rate than the camera (the gateway's frame-rate steps,
// docs/congestion.md): frames are dropped before the encoder, so the
// camera keeps streaming (a V4L2 frame interval cannot change while
// buffers are queued, and a restart would cost viewers a pause).
//
// Frames are kept on a schedule of the target interval, measured on the
// capture timestamps: a frame is kept when it arrives no earlier than 0.4
// of a camera period before its due time. With a 30 fps camera that keeps
// 2 of 3 frames at 20 fps, 1 of 2 at 15, 1 of 3 at 10 and 1 of 6 at 5
// (0.5 of a period would tie at 2/3 and let jitter pick). A frame may be
// let through off schedule (a key frame is due: the next frame must carry
// it, not one up to 200 ms later), and the schedule restarts from it.
#pragma once

#include <cstdint>

namespace camgw {

class FrameDecimator {
 public:
  // fps >= cameraFps (or not above 0): every frame.
  void setRate(double fps, double cameraFps) {
    if (!(fps > 0) || !(cameraFps > 0) || fps >= cameraFps) {
      intervalUs_ = 0;
    } else {
      intervalUs_ = static_cast<int64_t>(1e6 / fps + 0.5);
      marginUs_ = static_cast<int64_t>(0.4e6 / cameraFps);
    }
    started_ = false;
  }
  bool decimating() const { return intervalUs_ > 0; }
  // The next frame offered is kept whatever the schedule.
  void passNext() { passNext_ = true; }

  // Whether the frame captured at `tsUs` goes to the encoder.
  bool keep(int64_t tsUs) {
    if (intervalUs_ == 0) return true;
    const bool onTime = started_ && tsUs >= nextDueUs_ - marginUs_;
    if (started_ && !onTime && !passNext_) return false;
    passNext_ = false;
    // On time: the next is due one interval after this one was due (no
    // drift); late by an interval or more, off schedule, or the first:
    // one interval after this frame.
    nextDueUs_ =
        onTime && tsUs - nextDueUs_ < intervalUs_ ? nextDueUs_ + intervalUs_ : tsUs + intervalUs_;
    started_ = true;
    return true;
  }

 private:
  int64_t intervalUs_ = 0, marginUs_ = 0, nextDueUs_ = 0;
  bool started_ = false, passNext_ = false;
};

}  // namespace camgw
