// Creating UDP sockets for the data path. Start-up code: throws std::system_error naming the
// endpoint on failure.
#pragma once

#include "common/net/endpoint.h"
#include "common/net/unique_fd.h"

namespace dmux::net {

struct UdpSocketOptions {
  bool reuse_port = false;  // SO_REUSEPORT: one socket per worker on the same endpoint
  bool nonblocking = true;
  int rcvbuf_bytes = 0;  // 0 = kernel default
  int sndbuf_bytes = 0;
};

UniqueFd open_udp_socket(const Endpoint& bind_to, const UdpSocketOptions& opts);

// The address the kernel actually bound (useful with port 0).
Endpoint local_endpoint(int fd);

}  // namespace dmux::net
