# libFuzzer targets of the addon's device code (docs/fuzzing.md), built with
# clang in their own directory: build/fuzz/native. fake_device.h is forced
# into every file so ioctl/mmap reach the fuzzer's device, not the kernel.
FUZZ_NATIVE_DIR := build/fuzz/native
FUZZ_NATIVE_SRCS := capture_device.cc device_list.cc v4l2_util.cc device_error.cc \
                    pipeline_worker.cc pipeline.cc m2m_encoder.cc m2m_encoder_device.cc \
                    passthrough_encoder.cc x264_encoder.cc frame_queue.cc \
                    clock_map.cc encoder_settings.cc encoder_choice.cc raw_frame_tap.cc \
                    encoding_layer.cc frame_scaler.cc
FUZZ_NATIVE_OBJS := $(FUZZ_NATIVE_SRCS:%.cc=$(FUZZ_NATIVE_DIR)/obj/%.o) \
                    $(FUZZ_NATIVE_DIR)/obj/fake_device.o
FUZZ_NATIVE_CXXFLAGS := $(FUZZ_SANITIZE) -std=c++17 -Wall -Wextra -include native/fuzz/fake_device.h \
                        $(shell pkg-config --cflags x264)

$(FUZZ_NATIVE_DIR)/obj/%.o: native/src/%.cc native/fuzz/fake_device.h $(wildcard native/src/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_NATIVE_CXXFLAGS) -c -o $@ $<

$(FUZZ_NATIVE_DIR)/obj/fake_device.o: native/fuzz/fake_device.cc native/fuzz/fake_device.h
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_NATIVE_CXXFLAGS) -c -o $@ $<

$(FUZZ_NATIVE_DIR)/native-capture: native/fuzz/capture_fuzz.cc $(FUZZ_NATIVE_OBJS)
	$(FUZZ_CXX) $(FUZZ_NATIVE_CXXFLAGS) -o $@ $^ $(shell pkg-config --libs x264) -lyuv -pthread

FUZZ_NATIVE_BINS += $(FUZZ_NATIVE_DIR)/native-capture
