// libFuzzer target "native-capture": the addon's capture path against a
// device that answers with the fuzzer's bytes (fake_device.cc): QUERYCAP
// and the format/size/interval enumeration (device_list.cc describeDevice),
// S_FMT/S_PARM negotiation (CaptureDevice::configure), REQBUFS/QUERYBUF
// (start) and DQBUF results (dequeue), then what the pipeline does with a
// dequeued buffer (pipeline_worker.cc: copy `bytesused` bytes, look for an
// IDR). Property: DeviceError is the only exception (it is what reaches
// JavaScript as a device failure); ASan/UBSan catch reads past a buffer,
// overflows and the like.
#include <cstdint>
#include <vector>

#include "../src/capture_device.h"
#include "../src/device_error.h"
#include "../src/pipeline.h"
#include "fake_device.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  camgw::fuzz::setDeviceAnswers(data, size);
  try {
    camgw::CaptureDevice cam("/dev/null");
    for (const auto& f : cam.info().formats) {
      for (const auto& s : f.sizes) (void)s.intervals.size();
    }
    const uint32_t fourcc =
        cam.info().formats.empty() ? V4L2_PIX_FMT_YUYV : cam.info().formats.front().fourcc;
    const camgw::CaptureFormat fmt = cam.configure(640, 480, 30, fourcc);
    (void)fmt;
    cam.start(false);
    for (int k = 0; k < 8; k++) {
      camgw::CapturedBuffer b{};
      if (!cam.dequeue(b)) break;
      if (b.bytesused > 0) {
        std::vector<uint8_t> au(b.data, b.data + b.bytesused);
        (void)camgw::containsIdr(au.data(), au.size());
      }
      cam.requeue(b.index);
    }
    cam.stop();
  } catch (const camgw::DeviceError&) {
    // The documented failure: JavaScript gets it as a SourceError.
  }
  return 0;
}
