// A camera pipeline: capture device -> encoder (encoder.h: V4L2 M2M, x264 or
// the camera's own H.264) -> bounded queue, driven by one poll()-based worker
// thread. Plain C++ with no Node-API: the addon wraps it and turns its events
// into JS events.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "capture_device.h"
#include "clock_map.h"
#include "device_error.h"
#include "encoder.h"
#include "encoding_layer.h"
#include "frame_decimator.h"
#include "frame_queue.h"
#include "frame_scaler.h"
#include "pipeline_options.h"
#include "raw_frame_tap.h"

namespace camgw {

struct PipelineStats {
  uint64_t captured, encoded, delivered, dropped;
  uint64_t layerEncoded;    // access units of the lower encoding
  uint64_t decimated;       // camera frames not encoded to hold a lower frame rate
  uint32_t cameraSequence;  // the V4L2 sequence of the last frame captured
  double encodeTimeLastUs, encodeTimeMeanUs;
  size_t queueDepth;
};

// Called on the worker thread; must not block.
struct PipelineEvents {
  std::function<void()> framesReady;
  // fatal: the pipeline has stopped; otherwise one request (e.g. a bitrate) failed.
  std::function<void(const DeviceError&, bool fatal)> error;
  std::function<void()> unplugged;  // the pipeline has stopped
};

class Pipeline {
 public:
  // Opens and negotiates the camera and encoder; throws DeviceError.
  Pipeline(const PipelineOptions& o, PipelineEvents events);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  const Negotiated& negotiated() const { return neg_; }
  void start();
  void stop();   // joins the worker; safe to call from the JS thread at any time
  void close();  // stop + release every fd and mapping; idempotent
  bool running() const { return thread_.joinable(); }

  void setBitrate(uint32_t kbps);
  void requestKeyFrame();
  // Encodes at most `fps` frames a second from now on, the camera streaming
  // on at its own rate (frame_decimator.h); the encoder is told the new
  // rate. At or above the camera's rate: every frame. Lasts across stop()
  // and start(). Throws DeviceError for the camera's own H.264 (dropping
  // its frames would break the stream).
  void setFrameRate(double fps);
  // Encodes at `width` x `height` from now on, the camera streaming on at
  // the size it was opened at (docs/native.md, "Size steps"): each frame is
  // scaled (frame_scaler.h) before the main encoder, which is set up again
  // at the new size on the worker, between frames (Encoder::resize); its
  // next access unit is an IDR. The camera's size again: its frames go to
  // the encoder as they are (zero copy where it was). Lasts across stop()
  // and start(). Throws DeviceError for a size that is odd, under 16x16 or
  // larger than the camera's, and for the camera's own H.264; an encoder
  // that refuses the size on the worker is reported as a non-fatal error
  // and keeps the size it had.
  void setEncodedSize(uint32_t width, uint32_t height);
  // Whether camera buffers reach the encoder in place now (DMABUF).
  bool zeroCopy() const { return zeroCopy_; }

  // The second, lower encoding (encoding_layer.h): opened here on the
  // caller's thread (throws DeviceError), then handed to the worker; a
  // second start replaces it (a new size). It lasts until stopLayer(),
  // across stop() and start() (reopened with its latest bitrate). Its
  // frames come out of takeFrames() with layer 1.
  void startLayer(const LayerOptions& o);
  void stopLayer();
  void setLayerBitrate(uint32_t kbps);
  void requestLayerKeyFrame();
  // The running layer's encoder, or nullopt when none runs.
  std::optional<EncoderMode> layerEncoder() const;
  PipelineStats stats() const;
  std::deque<EncodedFrame> takeFrames();
  // Where snapshots wait for the next raw frame; null when the camera gives
  // no raw frames (an H.264 camera passed through).
  std::shared_ptr<RawFrameTap> rawFrameTap() const { return tap_; }

 private:
  void run();
  void loop();
  void applyCommands();
  void onCameraFrame(const CapturedBuffer& b);
  // Sets the main encoder up for frames of width x height (the camera's own
  // or scaled); the worker's, or the JS thread's while it does not run.
  void resizeEncoder(uint32_t width, uint32_t height);
  void applySize(uint32_t width, uint32_t height);
  void requeueCamera(uint32_t index);
  void onEncoded(EncodedUnit&& u);
  void onLayerEncoded(EncodedUnit&& u);
  std::unique_ptr<EncodingLayer> openLayer(const LayerOptions& o);
  void applyLayerCommands();
  void recordEncodeTime(double us);
  void wake();
  bool cameraGone();

  PipelineOptions opts_;
  PipelineEvents events_;
  Negotiated neg_{};
  std::unique_ptr<CaptureDevice> camera_;
  std::unique_ptr<Encoder> encoder_;      // declared after camera_: gone before it
  std::unique_ptr<EncodingLayer> layer_;  // the worker's while it runs
  FrameQueue queue_;
  FrameQueue layerQueue_;  // its own: a drop there asks the layer, not the main encoder, for an IDR
  ClockMap clock_;
  std::shared_ptr<RawFrameTap> tap_;
  UniqueFd wakeFd_;
  std::thread thread_;
  std::atomic<bool> stopRequested_{false};
  bool closed_ = false;

  std::mutex cmdMu_;
  uint32_t pendingBitrate_ = 0;
  bool pendingKey_ = false;
  double pendingFps_ = 0;                          // 0: no change asked
  double frameRate_ = 0;                           // JS thread: the rate asked, 0 for the camera's
  uint32_t pendingWidth_ = 0, pendingHeight_ = 0;  // a size to encode at; 0: no change asked
  // Layer commands for the worker: a new layer to run (or, with
  // pendingLayerSet_ and a null pendingLayer_, none), a bitrate, an IDR.
  std::unique_ptr<EncodingLayer> pendingLayer_;
  bool pendingLayerSet_ = false;
  uint32_t pendingLayerBitrate_ = 0;
  bool pendingLayerKey_ = false;
  // JS thread: what the layer is, to reopen it on start().
  std::optional<LayerOptions> layerConfig_;
  std::atomic<int> layerMode_{-1};  // EncoderMode of the running layer, -1 when none

  // Worker-thread state (the JS thread's while no worker runs).
  uint32_t camQueued_ = 0;
  FrameSource cameraSource_{0, false};  // the camera's buffers, as the encoder gets them unscaled
  // The main encoding's size; a scaler when it is not the camera's.
  std::atomic<uint32_t> encodedWidth_{0}, encodedHeight_{0};
  std::unique_ptr<FrameScaler> scaler_;
  std::atomic<bool> zeroCopy_{false};
  FrameDecimator decimator_;
  int64_t eioSinceUs_ = 0;  // first of a run of EIO dequeues, 0 when none

  std::atomic<uint32_t> cameraSequence_{0};
  std::atomic<uint64_t> captured_{0}, encoded_{0}, delivered_{0}, skipped_{0}, layerEncoded_{0},
      decimated_{0};
  mutable std::mutex statMu_;
  double encLast_ = 0, encSum_ = 0;
  uint64_t encCount_ = 0;
};

}  // namespace camgw
