# The native addon (owned by native/): built by node-gyp against Node's headers.
#
# Node's headers come from the system when Debian's nodejs ships them
# (/usr/include/node), so no download is needed; otherwise node-gyp fetches
# them as usual. A cross build (deploy) runs node-gyp itself with --arch=arm64
# and CC/CXX set; binding.gyp keeps every path relative for that.
.PHONY: native-build native-test-asan native-clean

NATIVE_NODEDIR ?= $(if $(wildcard /usr/include/node/node.h),/usr,)
NODE_GYP := $(abspath node_modules/.bin/node-gyp)
NATIVE_GYP_FLAGS := --jobs=2 $(if $(NATIVE_NODEDIR),--nodedir=$(NATIVE_NODEDIR))
NATIVE_SOURCES := $(wildcard native/src/*.cc native/src/*.h) native/binding.gyp

# Incremental: configure only when binding.gyp changed, then build what changed.
native/build/config.gypi: native/binding.gyp | deps
	cd native && $(NODE_GYP) configure $(if $(NATIVE_NODEDIR),--nodedir=$(NATIVE_NODEDIR))

native/build/Release/camgw_native.node: $(NATIVE_SOURCES) native/build/config.gypi
	cd native && $(NODE_GYP) build $(NATIVE_GYP_FLAGS)

native-build: deps native/build/Release/camgw_native.node

# AddressSanitizer build in its own directory (native/build-asan), from a
# binding.gyp that points back at native/src, then the tests that run on the
# virtual board, once, with libasan preloaded FIRST (ASan must be the first DSO
# to interpose malloc/ioctl; the sim library follows it). Leak detection is off:
# Node itself keeps allocations alive at exit by design.
NATIVE_ASAN_DIR := native/build-asan
NATIVE_ASAN_ADDON := $(NATIVE_ASAN_DIR)/build/Release/camgw_native.node
LIBASAN := $(shell $${CXX:-g++} -print-file-name=libasan.so)

$(NATIVE_ASAN_ADDON): $(NATIVE_SOURCES) | deps
	mkdir -p $(NATIVE_ASAN_DIR)
	sed 's#"src/#"../src/#' native/binding.gyp > $(NATIVE_ASAN_DIR)/binding.gyp
	cd $(NATIVE_ASAN_DIR) && $(NODE_GYP) rebuild $(NATIVE_GYP_FLAGS) -- -Dsanitize=address

native-test-asan: deps sim-build $(NATIVE_ASAN_ADDON)
	CAMGW_NATIVE_ADDON=$(abspath $(NATIVE_ASAN_ADDON)) \
	CAMGW_TEST_PRELOAD_FIRST=$(LIBASAN) \
	CAMGW_NATIVE_CYCLES=100 \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	npx vitest run native/ -t "on the virtual board"

native-clean:
	rm -rf native/build $(NATIVE_ASAN_DIR)
