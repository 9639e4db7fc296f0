# Packaging, flashing and arm64 checks (owned by deploy/; docs/deploy.md).
#   make dist                      -> dist/camgw_<version>_arm64.deb
#   make flash IMAGE=raspios.img DEVICE=/dev/sdX   (or OUT=camgw.img) [FLASH_ARGS=...]
#   make deploy-test               -> .deb checks + arm64 addon under qemu-user
#   make test-board                -> arm64 Debian rootfs + .deb + probe (slow)
.PHONY: dist flash deploy-test test-board deploy-arm64-deps deploy-sim-arm64 deploy-sysroot

DEPLOY_OUT := build/deploy
DEPLOY_ADDON := $(DEPLOY_OUT)/arm64/camgw_native.node
DEPLOY_SIM := $(DEPLOY_OUT)/arm64/sim/libcamgw-vdev.so
DEPLOY_SYSROOT := $(DEPLOY_OUT)/sysroot-arm64

# Debian multiarch: arm64 libx264/libyuv for the cross build (idempotent).
deploy-arm64-deps: dev-deps
	deploy/ensure-arm64.sh

# Always re-run: node-gyp and the vdev Makefile are incremental themselves.
$(DEPLOY_ADDON): deploy-arm64-deps FORCE
	deploy/dist/cross-addon.sh $(DEPLOY_OUT)/arm64

# The virtual board for arm64: shipped for camera-less boards, and the qemu tests' board.
deploy-sim-arm64: deploy-arm64-deps
	deploy/dist/cross-sim.sh $(DEPLOY_OUT)/arm64/sim

dist: ts-build viewer-build $(DEPLOY_ADDON) deploy-sim-arm64
	deploy/dist/build-deb.sh $(DEPLOY_ADDON) $(DEPLOY_SIM) dist

# Debian trixie's arm64 nodejs and its libraries, unpacked (cached).
deploy-sysroot: dev-deps
	deploy/check/arm64-sysroot.sh $(DEPLOY_SYSROOT)

DEPLOY_SCRIPTS := $(wildcard deploy/*.sh deploy/*/*.sh) deploy/package/postinst deploy/package/prerm deploy/package/postrm

deploy-test: dist deploy-sysroot
	shellcheck -S info $(DEPLOY_SCRIPTS)
	npx tsc -p deploy/tsconfig.json
	CAMGW_DEPLOY_PREBUILT=1 npx vitest run deploy/

flash:
	@test -n "$(IMAGE)" || { echo "usage: make flash IMAGE=raspios.img (DEVICE=/dev/sdX | OUT=file.img) [FLASH_ARGS='--device-id cam1 --broker mqtts://...']"; exit 2; }
	deploy/flash/flash.sh --image "$(IMAGE)" $(if $(DEVICE),--device "$(DEVICE)") $(if $(OUT),--out "$(OUT)") \
	  $(if $(DEB),--deb "$(DEB)",--deb "$$(ls -t dist/camgw_*_arm64.deb 2>/dev/null | head -1)") $(FLASH_ARGS)

test-board: build dist
	deploy/board/test-board.sh

.PHONY: FORCE
FORCE:
