#include "audio_playback.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "pcm_recovery.h"

namespace camgw {

namespace {

constexpr int kMaxPacketSamples = 5760;  // 120 ms, the longest Opus packet

uint32_t msToSamples(unsigned ms) { return static_cast<uint32_t>(kOpusRate / 1000 * ms); }

}  // namespace

AudioPlayback::AudioPlayback(const AudioPlaybackOptions& o, AudioPlaybackEvents events)
    : opts_(o),
      events_(std::move(events)),
      jitter_(msToSamples(o.jitterMs), msToSamples(o.maxJitterMs)) {
  AlsaConfig c;
  c.device = o.device;
  c.stream = SND_PCM_STREAM_PLAYBACK;
  c.channels = 2;
  c.rate = kOpusRate;
  c.periodFrames = kOpusFrame / 2;
  c.bufferFrames = msToSamples(o.bufferMs);
  pcm_ = std::make_unique<AlsaPcm>(c);
  period_ = static_cast<unsigned>(pcm_->periodFrames());
  buffer_ = static_cast<unsigned>(pcm_->bufferFrames());
  // Opus decodes any packet to 1 or 2 channels; more device channels get copies.
  const int decChannels = std::min(2u, pcm_->channels());
  decoder_ = std::make_unique<OpusDecoderHandle>(decChannels, o.device);
  decoded_.resize(static_cast<size_t>(kMaxPacketSamples) * static_cast<size_t>(decChannels));
  pending_.resize(static_cast<size_t>(kMaxPacketSamples) * pcm_->channels());
  wakeFd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeFd_) throw DeviceError(o.device, "eventfd", errno);
}

AudioPlayback::~AudioPlayback() { close(); }

void AudioPlayback::start() {
  if (running() || !pcm_) return;
  stopRequested_ = false;
  pendingFrames_ = pendingDone_ = 0;
  thread_ = std::thread([this] { run(); });
}

void AudioPlayback::stop() {
  if (!running()) return;
  stopRequested_ = true;
  uint64_t one = 1;
  if (write(wakeFd_.get(), &one, sizeof(one)) < 0) {
    // the worker also wakes on its 100 ms poll bound
  }
  thread_.join();
  if (pcm_) {
    snd_pcm_drop(pcm_->handle());
    snd_pcm_prepare(pcm_->handle());
  }
  jitter_.reset();  // a later start() plays what comes after it, not stale packets
}

void AudioPlayback::close() {
  stop();
  pcm_.reset();
  decoder_.reset();
  wakeFd_.reset();
  // The JS object may live on until a GC; what it held must not.
  std::vector<int16_t>().swap(decoded_);
  std::vector<int16_t>().swap(pending_);
  jitter_.reset();
}

bool AudioPlayback::push(const uint8_t* data, size_t len, bool hasTimestamp, uint32_t timestamp) {
  int samples = opusPacketSamples(data, len);
  if (samples <= 0 || samples > kMaxPacketSamples) {
    jitter_.countInvalid();
    return false;
  }
  return jitter_.push(std::vector<uint8_t>(data, data + len), static_cast<uint32_t>(samples),
                      hasTimestamp, timestamp);
}

void AudioPlayback::run() {
  try {
    loop();
  } catch (const DeviceError& e) {
    if (events_.error) events_.error(e, true);
  }
}

bool AudioPlayback::onError(const char* call, snd_pcm_sframes_t err) {
  // An underrun: the device ran dry (the worker was late). It is prepared
  // again, and the next write restarts it once a period is queued.
  return recoverPcm(*pcm_, events_, call, err, false, mu_, xruns_);
}

void AudioPlayback::produce() {
  JitterBuffer::Next step = jitter_.next();
  const int dch = decoder_->channels();
  int n = 0;
  switch (step.kind) {
    case JitterBuffer::Kind::Packet:
      n = decoder_->decode(step.data.data(), step.data.size(), decoded_.data(), kMaxPacketSamples,
                           false);
      if (n < 0) {
        // Refused by the decoder although it parsed: play it as a loss.
        jitter_.countInvalid();
        n = decoder_->decode(nullptr, 0, decoded_.data(), static_cast<int>(step.samples), false);
      }
      break;
    case JitterBuffer::Kind::Fec:
      n = decoder_->decode(step.data.data(), step.data.size(), decoded_.data(), kOpusFrame, true);
      break;
    case JitterBuffer::Kind::Conceal:
      n = decoder_->decode(nullptr, 0, decoded_.data(), kOpusFrame, false);
      break;
    case JitterBuffer::Kind::Silence:
      break;
  }
  if (n <= 0) {  // silence, or a decoder failure played as silence
    n = static_cast<int>(step.samples);
    std::fill(decoded_.begin(), decoded_.begin() + n * dch, 0);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    switch (step.kind) {
      case JitterBuffer::Kind::Packet:
        decodedFrames_++;
        break;
      case JitterBuffer::Kind::Fec:
        fec_++;
        break;
      case JitterBuffer::Kind::Conceal:
        concealed_++;
        break;
      case JitterBuffer::Kind::Silence:
        silent_++;
        break;
    }
  }
  const unsigned ch = pcm_->channels();
  for (int i = 0; i < n; i++) {
    for (unsigned c = 0; c < ch; c++) {
      unsigned from = c < static_cast<unsigned>(dch) ? c : 0;
      pending_[static_cast<size_t>(i) * ch + c] = decoded_[static_cast<size_t>(i * dch) + from];
    }
  }
  pendingFrames_ = static_cast<size_t>(n);
  pendingDone_ = 0;
}

void AudioPlayback::loop() {
  std::vector<pollfd> fds = pcm_->pollFds();
  const unsigned npcm = static_cast<unsigned>(fds.size());
  fds.push_back({wakeFd_.get(), POLLIN, 0});
  const unsigned ch = pcm_->channels();
  while (!stopRequested_) {
    if (pendingDone_ == pendingFrames_) produce();
    snd_pcm_sframes_t n =
        pcm_->write(pending_.data() + pendingDone_ * ch, pendingFrames_ - pendingDone_);
    if (n > 0) {
      pendingDone_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0) {
      if (!onError("snd_pcm_writei", n)) return;
      continue;
    }
    // The device is full: wait for a period to play out (or a stop).
    int r = poll(fds.data(), fds.size(), 100);
    if (r < 0 && errno != EINTR) throw DeviceError(pcm_->device(), "poll", errno);
    if (r > 0) pcm_->revents(fds.data(), npcm);
  }
}

AudioPlaybackStats AudioPlayback::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {jitter_.stats(), decodedFrames_, fec_, concealed_, silent_, xruns_};
}

}  // namespace camgw
