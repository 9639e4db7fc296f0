# The virtual board's LD_PRELOAD library (owned by firmware-sim/).
.PHONY: sim-build
sim-build: deps
	$(MAKE) -C firmware-sim/vdev
