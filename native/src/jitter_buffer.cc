#include "jitter_buffer.h"

#include "opus_codec.h"

namespace camgw {

JitterBuffer::JitterBuffer(uint32_t targetSamples, uint32_t maxSamples, uint32_t maxConceal)
    : target_(targetSamples),
      max_(maxSamples < targetSamples ? targetSamples : maxSamples),
      maxConceal_(maxConceal) {}

int64_t JitterBuffer::unwrap(uint32_t ts) {
  if (!haveLast_) return ts;
  return last_ + static_cast<int32_t>(ts - static_cast<uint32_t>(last_));
}

uint32_t JitterBuffer::buffered() const {
  if (packets_.empty()) return 0;
  auto last = packets_.rbegin();
  int64_t from = playing_ ? next_ : packets_.begin()->first;
  int64_t span = last->first + last->second.samples - from;
  return span > 0 ? static_cast<uint32_t>(span) : 0;
}

bool JitterBuffer::push(std::vector<uint8_t>&& data, uint32_t samples, bool hasTimestamp,
                        uint32_t timestamp) {
  std::lock_guard<std::mutex> lock(mu_);
  received_++;
  int64_t ts = hasTimestamp ? unwrap(timestamp) : (haveLast_ ? last_ + lastSamples_ : 0);
  if ((playing_ && ts < next_) || packets_.count(ts)) {
    late_++;  // its time has passed (or it is a duplicate)
    return false;
  }
  if (!haveLast_ || ts > last_) {
    last_ = ts;
    lastSamples_ = samples;
    haveLast_ = true;
  }
  packets_[ts] = Entry{std::move(data), samples};
  // Latency bound: drop the oldest down to the target, and play from there.
  if (buffered() > max_) {
    while (packets_.size() > 1 && buffered() > target_) {
      auto first = packets_.begin();
      if (playing_) next_ = first->first + first->second.samples;
      packets_.erase(first);
      dropped_++;
    }
    if (playing_ && !packets_.empty()) next_ = packets_.begin()->first;
  }
  return true;
}

void JitterBuffer::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  packets_.clear();
  playing_ = false;
  haveLast_ = false;
  concealRun_ = 0;
}

void JitterBuffer::countInvalid() {
  std::lock_guard<std::mutex> lock(mu_);
  received_++;
  invalid_++;
}

JitterBuffer::Next JitterBuffer::next() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!playing_) {
    if (packets_.empty() || buffered() < target_) return {Kind::Silence, {}, kOpusFrame};
    playing_ = true;
    next_ = packets_.begin()->first;
    concealRun_ = 0;
  }
  auto it = packets_.find(next_);
  if (it != packets_.end()) {
    Next n{Kind::Packet, std::move(it->second.data), it->second.samples};
    next_ += it->second.samples;
    packets_.erase(it);
    concealRun_ = 0;
    return n;
  }
  // A packet overlapping the playout point (a sender that changed its frame size) is skipped.
  while (!packets_.empty() && packets_.begin()->first < next_) {
    packets_.erase(packets_.begin());
    late_++;
  }
  if (!packets_.empty()) {
    auto first = packets_.begin();
    // A loss: the next packet may carry this frame as FEC (RFC 6716 section 2.1.7).
    Next n{first->first == next_ + kOpusFrame ? Kind::Fec : Kind::Conceal, {}, kOpusFrame};
    if (n.kind == Kind::Fec) n.data = first->second.data;
    next_ += kOpusFrame;
    concealRun_ = 0;
    return n;
  }
  // Nothing buffered: conceal a little (a late packet may still make it), then refill.
  if (concealRun_ < maxConceal_) {
    concealRun_++;
    next_ += kOpusFrame;
    return {Kind::Conceal, {}, kOpusFrame};
  }
  playing_ = false;
  underflows_++;
  return {Kind::Silence, {}, kOpusFrame};
}

JitterStats JitterBuffer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {received_, late_, dropped_, invalid_, underflows_, buffered()};
}

}  // namespace camgw
