#include "dmuxctl/control_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/net/unique_fd.h"

namespace dmux::ctl {

std::string request(const std::string& socket_path, const std::string& command) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof sa.sun_path) throw std::runtime_error("socket path too long");
  std::memcpy(sa.sun_path, socket_path.c_str(), socket_path.size() + 1);
  net::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    throw std::runtime_error("cannot connect to " + socket_path + ": " + std::strerror(errno) +
                             " (is dmuxd running? see --socket)");
  }
  const std::string line = command + "\n";
  if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(line.size())) {
    throw std::runtime_error("cannot send to " + socket_path + ": " + std::strerror(errno));
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("no reply from dmuxd: " + std::string(std::strerror(errno)));
    }
    reply.append(buf, static_cast<std::size_t>(n));
  }
  if (reply.empty()) throw std::runtime_error("dmuxd closed the connection without a reply");
  return reply;
}

}  // namespace dmux::ctl
