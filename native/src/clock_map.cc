#include "clock_map.h"

#include <time.h>

namespace camgw {

namespace {
int64_t readUs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}
}  // namespace

int64_t ClockMap::monotonicUs() { return readUs(CLOCK_MONOTONIC); }
int64_t ClockMap::realtimeUs() { return readUs(CLOCK_REALTIME); }

void ClockMap::refresh() {
  int64_t bestGap = INT64_MAX;
  for (int i = 0; i < 3; i++) {
    const int64_t m0 = monotonicUs();
    const int64_t r = realtimeUs();
    const int64_t m1 = monotonicUs();
    if (m1 - m0 < bestGap) {
      bestGap = m1 - m0;
      offsetUs_ = r - (m0 + m1) / 2;
    }
  }
  measuredAtUs_ = monotonicUs();
}

void ClockMap::maybeRefresh(int64_t periodUs) {
  if (monotonicUs() - measuredAtUs_ >= periodUs) refresh();
}

int64_t ClockMap::toRealtimeUs(const timeval& t) const { return timevalUs(t) + offsetUs_; }

}  // namespace camgw
