{
  # camgw's native addon. Paths are relative and libraries come from
  # pkg-config where a .pc exists (x264) so a cross build (node-gyp --arch=arm64
  # with CC/CXX=aarch64-linux-gnu-g* and PKG_CONFIG_LIBDIR for the target sysroot)
  # picks the target's libraries. Debian's libyuv-dev ships no .pc file, so it
  # is linked by name (-lyuv) from the compiler's default library path.
  "variables": {
    # Extra flags for instrumented builds, e.g. `node-gyp rebuild -- -Dsanitize=address`.
    "sanitize%": ""
  },
  "targets": [
    {
      "target_name": "camgw_native",
      "sources": [
        "src/addon.cc",
        # audio: ALSA capture/playback and Opus (docs/native.md, "Audio")
        "src/alsa_devices.cc",
        "src/alsa_pcm.cc",
        "src/audio_capture.cc",
        "src/audio_capture_wrap.cc",
        "src/audio_module.cc",
        "src/audio_options.cc",
        "src/audio_playback.cc",
        "src/audio_playback_wrap.cc",
        "src/jitter_buffer.cc",
        "src/opus_codec.cc",
        # video
        "src/capture_device.cc",
        "src/clock_map.cc",
        "src/device_error.cc",
        "src/device_list.cc",
        "src/encoder_choice.cc",
        "src/encoder_settings.cc",
        "src/encoding_layer.cc",
        "src/frame_queue.cc",
        "src/frame_scaler.cc",
        "src/jpeg_encoder.cc",
        "src/js_errors.cc",
        "src/m2m_encoder.cc",
        "src/m2m_encoder_device.cc",
        "src/passthrough_encoder.cc",
        "src/pipeline.cc",
        "src/pipeline_worker.cc",
        "src/pipeline_wrap.cc",
        "src/raw_frame_tap.cc",
        # snapshots: JPEG with libjpeg-turbo (docs/native.md, "Snapshots")
        "src/snapshot_job.cc",
        # systemd
        "src/sd_notify.cc",
        "src/v4l2_util.cc",
        "src/x264_encoder.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # C++ exceptions on: V4L2 failures are thrown as DeviceError from deep in
      # the device code and unwind through RAII owners of fds and mappings;
      # node-addon-api turns a thrown Napi::Error into a JS exception.
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra",
                    "<!@(pkg-config --cflags x264)", "<!@(pkg-config --cflags alsa opus)",
                    "<!@(pkg-config --cflags libturbojpeg)"],
      "cflags": ["-Wall", "-Wextra"],
      "libraries": ["<!@(pkg-config --libs x264)", "-lyuv", "<!@(pkg-config --libs alsa opus)",
                    "<!@(pkg-config --libs libturbojpeg)"],
      "conditions": [
        ["sanitize!=''", {
          "cflags_cc": ["-fsanitize=<(sanitize)", "-fno-omit-frame-pointer"],
          "ldflags": ["-fsanitize=<(sanitize)"]
        }]
      ]
    }
  ]
}
