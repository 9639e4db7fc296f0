// Opens a pipeline's devices and chooses its encoder: passthrough when the
// camera gives H.264, else the hardware M2M encoder when one takes a raw
// format the camera has, else x264; a forced choice that cannot work throws
// a DeviceError that says why.
#pragma once

#include <memory>

#include "capture_device.h"
#include "m2m_encoder.h"
#include "pipeline_options.h"
#include "x264_encoder.h"

namespace camgw {

struct PipelineParts {
  std::unique_ptr<CaptureDevice> camera;
  std::unique_ptr<M2mEncoder> hw;   // set for EncoderMode::Hardware
  std::unique_ptr<X264Encoder> sw;  // set for EncoderMode::Software
  Negotiated negotiated{};
};

PipelineParts openPipelineParts(const PipelineOptions& o);

}  // namespace camgw
