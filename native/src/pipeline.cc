#include "pipeline.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "encoder_choice.h"

namespace camgw {

Pipeline::Pipeline(const PipelineOptions& o, PipelineEvents events)
    : opts_(o), events_(std::move(events)), queue_(o.queueDepth), layerQueue_(o.queueDepth) {
  PipelineParts parts = openPipelineParts(o);
  camera_ = std::move(parts.camera);
  encoder_ = std::move(parts.encoder);
  neg_ = parts.negotiated;
  if (neg_.fourcc != V4L2_PIX_FMT_H264) {
    tap_ = std::make_shared<RawFrameTap>();
    tap_->setLayout(neg_.width, neg_.height, neg_.fourcc, camera_->format().bytesperline);
  }
  encodedWidth_ = neg_.width;
  encodedHeight_ = neg_.height;
  // Both run on the worker, from inside encode() or onPollEvents(). A
  // scaled frame is the pipeline's own copy: nothing to hand back.
  encoder_->setInputDoneCallback([this](uint32_t index) {
    if (index != kNotCameraBuffer) requeueCamera(index);
  });
  encoder_->setOutputReadyCallback([this](EncodedUnit&& u) { onEncoded(std::move(u)); });
  const int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) throw DeviceError(o.device, "eventfd", errno);
  wakeFd_.reset(efd);
}

Pipeline::~Pipeline() { close(); }

void Pipeline::start() {
  if (closed_) throw DeviceError(opts_.device, "start", "pipeline is closed");
  if (running()) return;
  // The camera exports its buffers only for an encoder that can import them.
  camera_->start(encoder_->importsDmabuf());
  const auto buffers = static_cast<uint32_t>(camera_->bufferCount());
  cameraSource_ = FrameSource{buffers, camera_->exported()};
  try {
    // Scaled frames (setEncodedSize) are the pipeline's own, one at a time.
    neg_.dmabuf = encoder_->start(scaler_ ? FrameSource{1, false} : cameraSource_);
    zeroCopy_ = neg_.dmabuf;
  } catch (...) {
    camera_->stop();
    throw;
  }
  if (layerConfig_ && !layer_) {
    try {
      layer_ = openLayer(*layerConfig_);
    } catch (const DeviceError& e) {
      // The main encoding goes on; the caller hears why the layer did not.
      layerConfig_.reset();
      events_.error(e, false);
    }
  }
  {
    // The schedule starts again with the first frame (frame_decimator.h).
    std::lock_guard<std::mutex> l(cmdMu_);
    if (frameRate_ > 0) pendingFps_ = frameRate_;
  }
  stopRequested_ = false;
  camQueued_ = buffers;
  thread_ = std::thread([this] { run(); });
  if (tap_) tap_->setRunning(true);
}

void Pipeline::stop() {
  if (tap_) tap_->setRunning(false);
  if (thread_.joinable()) {
    stopRequested_ = true;
    wake();
    thread_.join();
  }
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingLayer_.reset();
    pendingLayerSet_ = false;
  }
  // Reopened by start() from layerConfig_.
  layer_.reset();
  layerMode_ = -1;
  layerQueue_.clear();
  if (encoder_) encoder_->stop();
  if (camera_) camera_->stop();
}

void Pipeline::close() {
  if (closed_) return;
  stop();
  closed_ = true;
  encoder_.reset();  // first: the passthrough encoder refers to the camera
  camera_.reset();
  wakeFd_.reset();
  queue_.clear();
  layerConfig_.reset();
}

void Pipeline::wake() {
  const uint64_t one = 1;
  if (wakeFd_) {
    ssize_t r = write(wakeFd_.get(), &one, sizeof one);
    (void)r;  // EAGAIN only if the counter is saturated: already awake
  }
}

void Pipeline::setBitrate(uint32_t kbps) {
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingBitrate_ = kbps;
  }
  wake();
}

void Pipeline::requestKeyFrame() {
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingKey_ = true;
  }
  wake();
}

void Pipeline::setFrameRate(double fps) {
  if (neg_.encoder == EncoderMode::Passthrough) {
    throw DeviceError(opts_.device, "frame rate",
                      "the camera's own H.264 cannot skip frames (each P-frame needs the last)");
  }
  const double camera = double(neg_.fpsNumerator) / neg_.fpsDenominator;
  frameRate_ = fps > 0 && fps < camera ? fps : camera;
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingFps_ = frameRate_;
  }
  wake();
}

void Pipeline::setEncodedSize(uint32_t width, uint32_t height) {
  if (closed_) throw DeviceError(opts_.device, "resize", "pipeline is closed");
  if (neg_.encoder == EncoderMode::Passthrough) {
    throw DeviceError(opts_.device, "resize",
                      "the camera's own H.264 cannot be scaled (it gives no raw frames)");
  }
  if (width < 16 || height < 16 || width % 2 || height % 2 || width > neg_.width ||
      height > neg_.height) {
    throw DeviceError(opts_.device, "resize",
                      "an encoded size must be even, 16x16 at least and at most the camera's " +
                          std::to_string(neg_.width) + "x" + std::to_string(neg_.height) +
                          ", not " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (!running()) {
    // No worker: the encoder is not started, so this only sets it up.
    const uint32_t oldWidth = encodedWidth_, oldHeight = encodedHeight_;
    try {
      resizeEncoder(width, height);
    } catch (const DeviceError&) {
      resizeEncoder(oldWidth, oldHeight);
      throw;
    }
    return;
  }
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingWidth_ = width;
    pendingHeight_ = height;
  }
  wake();
}

void Pipeline::resizeEncoder(uint32_t width, uint32_t height) {
  const bool full = width == neg_.width && height == neg_.height;
  CaptureFormat in = camera_->format();
  if (!full) {
    in.width = width;
    in.height = height;
    in.fourcc = V4L2_PIX_FMT_YUV420;
    in.bytesperline = width;
    in.sizeimage = width * height * 3 / 2;
  }
  zeroCopy_ = encoder_->resize(in, full ? cameraSource_ : FrameSource{1, false});
  if (full) {
    scaler_.reset();
  } else {
    if (!scaler_) {
      scaler_ = std::make_unique<FrameScaler>(neg_.width, neg_.height, neg_.fourcc,
                                              camera_->format().bytesperline);
    }
    const InputLayout l = encoder_->inputLayout();
    if (l.bytesperline < width || l.rows < height) {
      throw DeviceError(opts_.device, "resize", "the encoder's input layout is too small");
    }
    scaler_->setTarget(width, height, l.bytesperline, l.rows);
  }
  encodedWidth_ = width;
  encodedHeight_ = height;
}

std::deque<EncodedFrame> Pipeline::takeFrames() {
  std::deque<EncodedFrame> f = queue_.takeAll();
  delivered_ += f.size();
  for (EncodedFrame& x : layerQueue_.takeAll()) f.push_back(std::move(x));
  return f;
}

std::unique_ptr<EncodingLayer> Pipeline::openLayer(const LayerOptions& o) {
  auto layer = std::make_unique<EncodingLayer>(opts_, neg_, camera_->format().bytesperline, o);
  layer->setOutputReadyCallback([this](EncodedUnit&& u) { onLayerEncoded(std::move(u)); });
  return layer;
}

void Pipeline::startLayer(const LayerOptions& o) {
  if (closed_) throw DeviceError(opts_.device, "layer", "pipeline is closed");
  std::unique_ptr<EncodingLayer> layer = openLayer(o);
  layerConfig_ = o;
  if (!running()) {
    layer_ = std::move(layer);
    layerMode_ = static_cast<int>(layer_->encoder());
    return;
  }
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingLayer_ = std::move(layer);
    pendingLayerSet_ = true;
    pendingLayerBitrate_ = 0;
  }
  wake();
}

void Pipeline::stopLayer() {
  layerConfig_.reset();
  if (!running()) {
    layer_.reset();
    layerMode_ = -1;
    return;
  }
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingLayer_.reset();
    pendingLayerSet_ = true;
  }
  wake();
}

void Pipeline::setLayerBitrate(uint32_t kbps) {
  if (layerConfig_) layerConfig_->bitrateKbps = kbps;
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingLayerBitrate_ = kbps;
  }
  wake();
}

void Pipeline::requestLayerKeyFrame() {
  {
    std::lock_guard<std::mutex> l(cmdMu_);
    pendingLayerKey_ = true;
  }
  wake();
}

std::optional<EncoderMode> Pipeline::layerEncoder() const {
  const int m = layerMode_;
  if (m < 0) return std::nullopt;
  return static_cast<EncoderMode>(m);
}

PipelineStats Pipeline::stats() const {
  PipelineStats s{};
  s.captured = captured_;
  s.encoded = encoded_;
  s.delivered = delivered_;
  s.dropped = queue_.dropped() + skipped_;
  s.layerEncoded = layerEncoded_;
  s.decimated = decimated_;
  s.cameraSequence = cameraSequence_;
  s.queueDepth = queue_.depth();
  std::lock_guard<std::mutex> l(statMu_);
  s.encodeTimeLastUs = encLast_;
  s.encodeTimeMeanUs = encCount_ ? encSum_ / double(encCount_) : 0;
  return s;
}

void Pipeline::recordEncodeTime(double us) {
  std::lock_guard<std::mutex> l(statMu_);
  encLast_ = us;
  encSum_ += us;
  encCount_++;
}

}  // namespace camgw
