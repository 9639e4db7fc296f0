# The virtual board (owned by firmware-sim/).
# sim-build: the LD_PRELOAD library firmware-sim/build/libcamgw-vdev.so and its
#            C test programs (CC=... BUILD_DIR=... pass through for cross builds),
#            and the network lab's link emulator firmware-sim/build/camgw-linkem.
# sim-compliance: v4l2-compliance on the virtual camera, encoder and media node, totals only.
.PHONY: sim-build sim-compliance
sim-build: deps
	$(MAKE) -C firmware-sim/vdev -j2
	$(MAKE) -C firmware-sim/linkem

SIM_PRELOAD := LD_PRELOAD=$(CURDIR)/firmware-sim/build/libcamgw-vdev.so
sim-compliance: sim-build
	@$(SIM_PRELOAD) v4l2-compliance -d /dev/video0 -s 2>&1 | grep -E '^Total|fail:' || true
	@$(SIM_PRELOAD) v4l2-compliance -d /dev/video11 -s -e /dev/video0 2>&1 | grep -E '^Total|fail:' || true
	@$(SIM_PRELOAD) v4l2-compliance -m /dev/media0 2>&1 | grep -E '^Grand Total|fail:' || true
