#include "sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "device_error.h"

namespace camgw {

void sdNotify(const std::string& path, const std::string& state) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // sun_path has no room for a terminator once full; refuse what cannot fit.
  if (path.size() < 2 || path.size() >= sizeof(addr.sun_path) ||
      (path[0] != '/' && path[0] != '@')) {
    throw DeviceError(path, "NOTIFY_SOCKET", "not an absolute or abstract socket path");
  }
  memcpy(addr.sun_path, path.data(), path.size());
  // An abstract address starts with a NUL byte where systemd writes '@'
  // (sd_notify(3)), and its length is exact rather than NUL-terminated.
  if (path[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                               (path[0] == '@' ? 0 : 1));
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw DeviceError(path, "socket", errno);
  // One datagram, never blocking the event loop: systemd's socket is a
  // datagram socket with a deep queue; a full one is an error, not a wait.
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                              reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  close(fd);
  if (sent < 0) throw DeviceError(path, "sendto", err);
}

}  // namespace camgw
