#include "audio_capture.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "pcm_recovery.h"

namespace camgw {

namespace {

int64_t monoNs() { return ClockMap::monotonicUs() * 1000; }

int64_t framesToNs(int64_t frames) { return frames * 1000000000 / kOpusRate; }

}  // namespace

AudioCapture::AudioCapture(const AudioCaptureOptions& o, AudioCaptureEvents events)
    : opts_(o), events_(std::move(events)) {
  AlsaConfig c;
  c.device = o.device;
  c.stream = SND_PCM_STREAM_CAPTURE;
  c.channels = static_cast<unsigned>(o.opus.channels);
  c.rate = kOpusRate;
  c.periodFrames = kOpusFrame / 2;  // 10 ms: a 20 ms frame is ready one period after it ends
  c.bufferFrames = static_cast<snd_pcm_uframes_t>(kOpusRate) * o.bufferMs / 1000;
  pcm_ = std::make_unique<AlsaPcm>(c);
  period_ = static_cast<unsigned>(pcm_->periodFrames());
  buffer_ = static_cast<unsigned>(pcm_->bufferFrames());
  encoder_ = std::make_unique<OpusEncoderHandle>(o.opus, o.device);
  lookahead_ = encoder_->lookahead();
  frame_.resize(static_cast<size_t>(kOpusFrame) * pcm_->channels());
  mixed_.resize(static_cast<size_t>(kOpusFrame) * static_cast<size_t>(o.opus.channels));
  wakeFd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeFd_) throw DeviceError(o.device, "eventfd", errno);
}

AudioCapture::~AudioCapture() { close(); }

void AudioCapture::start() {
  if (running() || !pcm_) return;
  stopRequested_ = false;
  have_ = 0;
  thread_ = std::thread([this] { run(); });
}

void AudioCapture::stop() {
  if (!running()) return;
  stopRequested_ = true;
  uint64_t one = 1;
  if (write(wakeFd_.get(), &one, sizeof(one)) < 0) {
    // the eventfd cannot overflow with one write per stop; the 100 ms poll bound covers it
  }
  thread_.join();
  if (pcm_) {
    // Back to PREPARED with nothing buffered, so start() captures afresh.
    snd_pcm_drop(pcm_->handle());
    snd_pcm_prepare(pcm_->handle());
  }
}

void AudioCapture::close() {
  stop();
  pcm_.reset();
  encoder_.reset();
  wakeFd_.reset();
  // The JS object may live on until a GC; what it held must not.
  std::vector<int16_t>().swap(frame_);
  std::vector<int16_t>().swap(mixed_);
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<AudioPacket>().swap(queue_);
}

void AudioCapture::run() {
  try {
    loop();
  } catch (const DeviceError& e) {
    if (events_.error) events_.error(e, true);
  }
}

bool AudioCapture::onError(const char* call, snd_pcm_sframes_t err) {
  if (err == -EPIPE || err == -ESTRPIPE) {
    // Overrun: samples were lost. What was gathered of the current frame no
    // longer joins up with what comes next, so it goes too.
    have_ = 0;
  }
  return recoverPcm(*pcm_, events_, call, err, true, mu_, xruns_);
}

void AudioCapture::loop() {
  std::vector<pollfd> fds = pcm_->pollFds();
  const unsigned npcm = static_cast<unsigned>(fds.size());
  fds.push_back({wakeFd_.get(), POLLIN, 0});
  int err = pcm_->start();
  if (err < 0 && !onError("snd_pcm_start", err)) return;
  const unsigned channels = pcm_->channels();
  int64_t lastDataNs = monoNs();
  int64_t frameStartNs = 0;
  bool stalled = false;
  while (!stopRequested_) {
    int r = poll(fds.data(), fds.size(), 100);
    if (r < 0 && errno != EINTR) throw DeviceError(pcm_->device(), "poll", errno);
    if (stopRequested_) break;
    clock_.maybeRefresh();
    if (r > 0) pcm_->revents(fds.data(), npcm);  // lets plugins consume their wake-ups
    for (;;) {
      snd_pcm_sframes_t got =
          pcm_->read(frame_.data() + static_cast<size_t>(have_) * channels, kOpusFrame - have_);
      if (got == 0) break;
      if (got < 0) {
        if (!onError("snd_pcm_readi", got)) return;
        break;
      }
      if (have_ == 0) {
        // The frames just read end `avail` frames before hw_ptr, whose instant
        // the timestamp is; the frame's first sample is `got` further back.
        snd_pcm_uframes_t avail = 0;
        int64_t tsNs = 0;
        if (!pcm_->timestamp(&avail, &tsNs)) {
          snd_pcm_sframes_t a = pcm_->avail();
          avail = a > 0 ? static_cast<snd_pcm_uframes_t>(a) : 0;
          tsNs = monoNs();
        }
        frameStartNs = tsNs - framesToNs(static_cast<int64_t>(avail) + got);
      }
      have_ += static_cast<unsigned>(got);
      lastDataNs = monoNs();
      stalled = false;
      if (have_ == kOpusFrame) {
        encodeFrame(frameStartNs);
        have_ = 0;
      }
    }
    unsigned silentMs = static_cast<unsigned>((monoNs() - lastDataNs) / 1000000);
    if (!stalled && silentMs >= opts_.stallMs) {
      stalled = true;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stalls_++;
      }
      if (events_.stall) events_.stall(silentMs);
    }
  }
}

void AudioCapture::encodeFrame(int64_t firstSampleMonoNs) {
  const unsigned in = pcm_->channels();
  const int out = opts_.opus.channels;
  const int16_t* pcm = frame_.data();
  if (in != static_cast<unsigned>(out)) {
    // Mono from several channels: their mean; stereo from mono: the same twice.
    for (int i = 0; i < kOpusFrame; i++) {
      const int16_t* f = frame_.data() + static_cast<size_t>(i) * in;
      if (out == 1) {
        int32_t sum = 0;
        for (unsigned c = 0; c < in; c++) sum += f[c];
        mixed_[static_cast<size_t>(i)] = static_cast<int16_t>(sum / static_cast<int32_t>(in));
      } else {
        mixed_[2 * static_cast<size_t>(i)] = f[0];
        mixed_[2 * static_cast<size_t>(i) + 1] = in > 1 ? f[1] : f[0];
      }
    }
    pcm = mixed_.data();
  }
  auto t0 = std::chrono::steady_clock::now();
  AudioPacket p;
  p.data = encoder_->encode(pcm);
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  p.captureTimeUs = clock_.toRealtimeUs(firstSampleMonoNs / 1000);
  p.samples = kOpusFrame;
  {
    std::lock_guard<std::mutex> lock(mu_);
    encoded_++;
    encodeSumUs_ += us;
  }
  push(std::move(p));
}

void AudioCapture::push(AudioPacket&& p) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // JS is behind: the oldest packet goes (audio has no key frames to wait for).
    if (queue_.size() >= opts_.queueDepth) {
      queue_.pop_front();
      dropped_++;
    }
    queue_.push_back(std::move(p));
  }
  if (events_.packetsReady) events_.packetsReady();
}

std::deque<AudioPacket> AudioCapture::takePackets() {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<AudioPacket> out;
  out.swap(queue_);
  delivered_ += out.size();
  return out;
}

AudioCaptureStats AudioCapture::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {encoded_,     delivered_, dropped_,
          xruns_,       stalls_,    encoded_ ? encodeSumUs_ / static_cast<double>(encoded_) : 0.0,
          queue_.size()};
}

}  // namespace camgw
