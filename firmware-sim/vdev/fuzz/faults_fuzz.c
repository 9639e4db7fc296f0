/* libFuzzer target "vdev-faults": the fault-spec parser (faults.c), which
 * reads what a user types (CAMGW_SIM_FAULTS, --sim-faults, the control
 * file). Properties: it returns 0 or -1 and nothing else; on -1 the message
 * is a non-empty string inside the buffer; on 0 every value is in the range
 * docs/firmware-sim.md gives. ASan/UBSan catch the rest (overflows, a
 * double that does not fit int64_t). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../faults.h"

#define CHECK(cond)                \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  char* spec = malloc(size + 1);
  if (!spec) return 0;
  memcpy(spec, data, size);
  spec[size] = 0;
  struct fault_set set;
  char err[256];
  memset(err, 0x7f, sizeof err);
  int rc = faults_parse(spec, &set, err, sizeof err);
  CHECK(rc == 0 || rc == -1);
  if (rc == -1) {
    CHECK(memchr(err, 0, sizeof err) != NULL);
    CHECK(err[0] != 0);
  } else {
    CHECK(set.drop_rate >= 0 && set.drop_rate <= 1);
    CHECK(set.eio_rate >= 0 && set.eio_rate <= 1);
    CHECK(set.corrupt_rate >= 0 && set.corrupt_rate <= 1);
    CHECK(set.drift_ppm >= -10000 && set.drift_ppm <= 10000);
    CHECK(set.stall_ns >= 0 && set.snd_stall_ns >= 0 && set.enc_lag_ns >= 0);
    CHECK(set.stall_at_ns >= -1 && set.unplug_at_ns >= -1 && set.enc_stop_at_ns >= -1);
    CHECK(set.snd_stall_at_ns >= -1 && set.xrun_at_ns >= -1 && set.unplug_for_ns >= -1);
  }
  free(spec);
  return 0;
}
