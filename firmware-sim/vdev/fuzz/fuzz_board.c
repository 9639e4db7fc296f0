/* The parts of the virtual board a fuzzed parser links against but never
 * reaches from a fuzz target: faults.c's live half (the control-file ticker,
 * unplugging devices) needs the board and the real libc entry points. They
 * are defined empty here so the parsers link alone, without the LD_PRELOAD
 * interposers (which would take over the fuzzer's own open/ioctl). Reaching
 * one from a target calls a null pointer: a crash libFuzzer reports. */
#define _GNU_SOURCE
#include <time.h>

#include "../real.h"
#include "../vdev.h"

struct real_fns real;
struct board g_board;

void board_set_present(struct vdevice* d, int present) {
  (void)d;
  (void)present;
  __builtin_trap();
}

int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}
