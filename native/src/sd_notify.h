// systemd's service notification protocol (sd_notify(3)): READY=1,
// WATCHDOG=1, STATUS=... as one datagram to $NOTIFY_SOCKET. Node's dgram has
// no AF_UNIX, so the one syscall lives here; libsystemd is not linked for it.
#pragma once

#include <string>

namespace camgw {

// Sends `state` (newline-separated KEY=VALUE lines) to the socket at `path`
// (a file system path, or '@' for the abstract namespace, as systemd sets
// NOTIFY_SOCKET). Throws DeviceError("sendto", errno) on failure.
void sdNotify(const std::string& path, const std::string& state);

}  // namespace camgw
