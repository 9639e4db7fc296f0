// Lists /dev/video<N> nodes and what each can do (QUERYCAP, ENUM_FMT,
// ENUM_FRAMESIZES, ENUM_FRAMEINTERVALS) as plain structs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace camgw {

struct FrameInterval {
  uint32_t numerator;
  uint32_t denominator;
};

struct FrameSize {
  uint32_t width;
  uint32_t height;
  std::vector<FrameInterval> intervals;
};

// Stepwise/continuous sizes (encoders, some cameras): the range instead of a list.
struct SizeRange {
  uint32_t minWidth, maxWidth, stepWidth, minHeight, maxHeight, stepHeight;
};

struct FormatInfo {
  uint32_t fourcc;
  std::string description;
  bool compressed;
  std::vector<FrameSize> sizes;
  bool hasRange = false;
  SizeRange range{};
};

enum class DeviceKind { Capture, M2mEncoder, Other };

struct DeviceInfo {
  std::string path;
  std::string driver, card, bus;
  uint32_t capabilities;  // of this node (device_caps)
  DeviceKind kind;
  bool isPiEncoder;
  bool multiplanar;
  std::vector<FormatInfo> formats;       // what the node gives (CAPTURE side)
  std::vector<FormatInfo> inputFormats;  // M2M: what it takes (OUTPUT side)
};

// Nodes that fail to open (busy, permission) are listed with kind Other and
// an empty driver rather than aborting the whole listing.
std::vector<DeviceInfo> listDevices(const std::string& dir = "/dev");

// Queries one opened node (used by listDevices and by pipeline set-up).
DeviceInfo describeDevice(int fd, const std::string& path);

}  // namespace camgw
