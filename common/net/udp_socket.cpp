#include "common/net/udp_socket.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace dmux::net {
namespace {

[[noreturn]] void fail(const char* what, const Endpoint& ep) {
  throw std::system_error(errno, std::generic_category(), std::string(what) + " " + ep.to_string());
}

void set_int(int fd, int level, int opt, int value, const char* what, const Endpoint& ep) {
  if (::setsockopt(fd, level, opt, &value, sizeof value) != 0) fail(what, ep);
}

}  // namespace

UniqueFd open_udp_socket(const Endpoint& bind_to, const UdpSocketOptions& opts) {
  int type = SOCK_DGRAM | SOCK_CLOEXEC;
  if (opts.nonblocking) type |= SOCK_NONBLOCK;
  UniqueFd fd(::socket(AF_INET, type, 0));
  if (!fd.valid()) fail("socket() for", bind_to);
  if (opts.reuse_port) set_int(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT on", bind_to);
  if (opts.rcvbuf_bytes > 0) {
    set_int(fd.get(), SOL_SOCKET, SO_RCVBUF, opts.rcvbuf_bytes, "SO_RCVBUF on", bind_to);
  }
  if (opts.sndbuf_bytes > 0) {
    set_int(fd.get(), SOL_SOCKET, SO_SNDBUF, opts.sndbuf_bytes, "SO_SNDBUF on", bind_to);
  }
  const sockaddr_in sa = bind_to.to_sockaddr();
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    fail("cannot bind", bind_to);
  }
  return fd;
}

Endpoint local_endpoint(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    throw std::system_error(errno, std::generic_category(), "getsockname");
  }
  return Endpoint::from_sockaddr(sa);
}

std::optional<std::uint32_t> source_address_toward(const Endpoint& destination) noexcept {
  const UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return std::nullopt;
  const sockaddr_in to = destination.to_sockaddr();
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    return std::nullopt;
  }
  sockaddr_in local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) return std::nullopt;
  const Endpoint ep = Endpoint::from_sockaddr(local);
  if (ep.addr == 0) return std::nullopt;
  return ep.addr;
}

}  // namespace dmux::net
