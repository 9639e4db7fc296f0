#include "encoder_settings.h"

namespace camgw {

uint32_t pickLevelIdc(uint32_t width, uint32_t height, double fps) {
  // ITU-T H.264 Table A-1: {level_idc, MaxMBPS, MaxFS}.
  struct Limit {
    uint32_t idc;
    double maxMbps;
    uint32_t maxFs;
  };
  static const Limit kLimits[] = {
      {10, 1485, 99},     {11, 3000, 396},     {12, 6000, 396},     {13, 11880, 396},
      {20, 11880, 396},   {21, 19800, 792},    {22, 20250, 1620},   {30, 40500, 1620},
      {31, 108000, 3600}, {32, 216000, 5120},  {40, 245760, 8192},  {41, 245760, 8192},
      {42, 522240, 8704}, {50, 589824, 22080}, {51, 983040, 36864}, {52, 2073600, 36864},
  };
  const uint32_t mbs = ((width + 15) / 16) * ((height + 15) / 16);
  for (const Limit& l : kLimits) {
    if (mbs <= l.maxFs && mbs * fps <= l.maxMbps) return l.idc;
  }
  return 52;
}

uint32_t parseLevel(const std::string& s) {
  if (s == "1b") return 9;
  static const char* kNames[] = {"1",   "1.1", "1.2", "1.3", "2",   "2.1", "2.2", "3",
                                 "3.1", "3.2", "4",   "4.1", "4.2", "5",   "5.1", "5.2"};
  static const uint32_t kIdc[] = {10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52};
  for (size_t i = 0; i < sizeof kIdc / sizeof kIdc[0]; i++) {
    if (s == kNames[i] || s == std::string(kNames[i]) + ".0") return kIdc[i];
  }
  return 0;
}

}  // namespace camgw
