// Opens a pipeline's devices and chooses its encoder: passthrough when the
// camera gives H.264, else the hardware M2M encoder when one takes a raw
// format the camera has, else x264; a forced choice that cannot work throws
// a DeviceError that says why.
#pragma once

#include <memory>

#include "capture_device.h"
#include "encoder.h"
#include "pipeline_options.h"

namespace camgw {

struct PipelineParts {
  std::unique_ptr<CaptureDevice> camera;
  std::unique_ptr<Encoder> encoder;  // may refer to `camera` (passthrough)
  Negotiated negotiated{};
};

PipelineParts openPipelineParts(const PipelineOptions& o);

}  // namespace camgw
