# libFuzzer targets of the virtual board's parsers (docs/fuzzing.md), built
# with clang in build/fuzz/vdev. fuzz_board.c stands in for the board parts
# the parsers link against but never reach.
FUZZ_VDEV_DIR := build/fuzz/vdev
FUZZ_VDEV_CFLAGS := $(FUZZ_SANITIZE) -std=gnu11 -Wall -Wextra -pthread

$(FUZZ_VDEV_DIR)/vdev-faults: firmware-sim/vdev/fuzz/faults_fuzz.c firmware-sim/vdev/fuzz/fuzz_board.c \
                              firmware-sim/vdev/faults.c $(wildcard firmware-sim/vdev/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_VDEV_CFLAGS) -o $@ $(filter %.c,$^) -lm

$(FUZZ_VDEV_DIR)/vdev-snd-params: firmware-sim/vdev/fuzz/snd_params_fuzz.c \
                                  firmware-sim/vdev/snd_params.c $(wildcard firmware-sim/vdev/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_VDEV_CFLAGS) -o $@ $(filter %.c,$^)

FUZZ_NATIVE_BINS += $(FUZZ_VDEV_DIR)/vdev-faults $(FUZZ_VDEV_DIR)/vdev-snd-params
