#include "client/route_watch.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace dmux::client {

void RouteWatch::Closer::operator()(mnl_socket* s) const noexcept { mnl_socket_close(s); }

RouteWatch::RouteWatch() : socket_(mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC)) {
  if (!socket_) throw std::system_error(errno, std::generic_category(), "rtnetlink socket");
  const unsigned groups = RTMGRP_IPV6_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_LINK;
  if (mnl_socket_bind(socket_.get(), groups, MNL_SOCKET_AUTOPID) < 0)
    throw std::system_error(errno, std::generic_category(), "bind rtnetlink groups");
}

RouteWatch::~RouteWatch() = default;

int RouteWatch::fd() const noexcept { return mnl_socket_get_fd(socket_.get()); }

bool RouteWatch::drain() noexcept {
  std::array<char, 8192> buf;  // contents not looked at
  bool any = false;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n > 0) {
      any = true;
      continue;
    }
    if (n < 0 && errno == ENOBUFS) {  // notifications were lost: look again anyway
      any = true;
      continue;
    }
    return any;  // EAGAIN, or an error we cannot do anything about
  }
}

}  // namespace dmux::client
