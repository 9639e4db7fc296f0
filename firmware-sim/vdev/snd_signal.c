/* The virtual microphone's test signal: a tone burst at every whole second
 * of CLOCK_REALTIME, the clock of the video frame stamp (docs/frame-stamp.md),
 * so a receiver can measure audio latency and audio/video offset with no help
 * from the sender.
 *
 * A sample captured at REALTIME t (seconds) has the value
 *
 *   round(16384 * sin(2 pi * 1000 * (t - floor(t))))   when t - floor(t) < 20 ms
 *   0                                                    otherwise
 *
 * i.e. a 1 kHz sine at -6 dBFS starting with phase 0 exactly on the second
 * and lasting 20 ms (20 cycles), and digital silence in between. The capture
 * instant of a sample is the one the device reports through its timestamps
 * (docs/firmware-sim.md, "Microphone"), so the two agree to the nanosecond. */
#include <math.h>

#include "snd.h"

#define BURST_NS 20000000
#define BURST_HZ 1000.0
#define BURST_AMPLITUDE 16384.0

int16_t vsnd_mic_sample(int64_t realtime_ns) {
  int64_t into = realtime_ns % 1000000000;
  if (into < 0) into += 1000000000;
  if (into >= BURST_NS) return 0;
  return (int16_t)lrint(BURST_AMPLITUDE * sin(2 * M_PI * BURST_HZ * (double)into / 1e9));
}
