// Maps V4L2 buffer timestamps (CLOCK_MONOTONIC, V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC)
// to CLOCK_REALTIME, the clock viewers and the frame stamp use.
//
// The offset is measured by reading REALTIME between two MONOTONIC reads and
// keeping the tightest of a few tries; it is refreshed periodically because
// NTP slews REALTIME while MONOTONIC runs on.
#pragma once

#include <sys/time.h>

#include <cstdint>

namespace camgw {

// A V4L2 buffer timestamp (a timeval) in microseconds on its own clock.
inline int64_t timevalUs(const timeval& t) { return int64_t(t.tv_sec) * 1000000 + t.tv_usec; }

class ClockMap {
 public:
  ClockMap() { refresh(); }
  void refresh();
  // Refreshes when the last measurement is older than `periodUs`.
  void maybeRefresh(int64_t periodUs = 1000000);
  int64_t toRealtimeUs(const timeval& monotonic) const;
  int64_t toRealtimeUs(int64_t monotonicUs) const { return monotonicUs + offsetUs_; }

  static int64_t monotonicUs();
  static int64_t realtimeUs();

 private:
  int64_t offsetUs_ = 0;
  int64_t measuredAtUs_ = 0;
};

}  // namespace camgw
