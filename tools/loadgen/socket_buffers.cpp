#include "tools/loadgen/socket_buffers.h"

#include <sys/socket.h>

namespace dmux::loadgen {

int grow_receive_buffer(int fd, int bytes) noexcept {
  if (bytes > 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  int granted = 0;
  socklen_t len = sizeof granted;
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &len);
  return granted;
}

}  // namespace dmux::loadgen
