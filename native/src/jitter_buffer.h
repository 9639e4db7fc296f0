// The playout buffer between the network (Opus packets pushed from JS, in any
// order, with RTP timestamps at 48 kHz) and the speaker (a frame every 20 ms).
//
// Playout starts once `target` samples are buffered and then follows the
// packets' timestamps: a missing packet is recovered from the next one's
// in-band FEC when that one is already here, else concealed by Opus PLC;
// after `maxConceal` concealed frames with nothing buffered the buffer
// refills to the target again (silence meanwhile). A packet older than the
// playout point is late and dropped; when more than `max` samples pile up
// the oldest go, so latency stays bounded.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace camgw {

struct JitterStats {
  uint64_t received, late, dropped, invalid;
  uint64_t underflows;  // ran dry and went back to refilling
  uint32_t bufferedSamples;
};

class JitterBuffer {
 public:
  enum class Kind { Packet, Fec, Conceal, Silence };
  struct Next {
    Kind kind;
    std::vector<uint8_t> data;  // Packet: the packet; Fec: the *following* packet
    uint32_t samples;           // what this step plays (per channel)
  };

  JitterBuffer(uint32_t targetSamples, uint32_t maxSamples, uint32_t maxConceal = 5);

  // JS thread. `samples`: the packet's duration (opusPacketSamples). Without a
  // timestamp the packet follows the previous one. False when it is refused.
  bool push(std::vector<uint8_t>&& data, uint32_t samples, bool hasTimestamp, uint32_t timestamp);
  void countInvalid();
  // Forgets the packets and the playout point (counters stay).
  void reset();
  // Worker: what to play for the next step.
  Next next();
  JitterStats stats() const;

 private:
  int64_t unwrap(uint32_t ts);  // RTP timestamps wrap at 2^32 (RFC 3550 section 5.1)
  uint32_t buffered() const;

  struct Entry {
    std::vector<uint8_t> data;
    uint32_t samples;
  };
  mutable std::mutex mu_;
  std::map<int64_t, Entry> packets_;
  uint32_t target_, max_, maxConceal_;
  bool playing_ = false;
  int64_t next_ = 0;  // playout point (extended timestamp)
  bool haveLast_ = false;
  int64_t last_ = 0;  // last pushed extended timestamp
  uint32_t lastSamples_ = 0;
  uint32_t concealRun_ = 0;
  uint64_t received_ = 0, late_ = 0, dropped_ = 0, invalid_ = 0, underflows_ = 0;
};

}  // namespace camgw
