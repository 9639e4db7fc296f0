// The fuzz build of the addon's device code (native/fuzz) reaches a V4L2
// device through these instead of the kernel: compiled with
// `-include fake_device.h`, every ioctl/mmap/munmap of native/src goes to a
// device that answers with the fuzzer's bytes (fake_device.cc). Nothing
// else changes: the code under test is the addon's own.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif
int camgw_fuzz_ioctl(int fd, unsigned long request, ...) noexcept;
void* camgw_fuzz_mmap(void* addr, size_t len, int prot, int flags, int fd, off_t offset) noexcept;
int camgw_fuzz_munmap(void* addr, size_t len) noexcept;
#ifdef __cplusplus
}
#endif

#define ioctl camgw_fuzz_ioctl
#define mmap camgw_fuzz_mmap
#define munmap camgw_fuzz_munmap

namespace camgw::fuzz {
// The bytes the fake device answers from, consumed front to back; when they
// run out every further ioctl fails with EINVAL (which ends enumerations).
void setDeviceAnswers(const uint8_t* data, size_t size);
}  // namespace camgw::fuzz
