// Creating UDP sockets for the data path. Start-up code: throws std::system_error naming the
// endpoint on failure.
#pragma once

#include <cstdint>
#include <optional>

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

// The source address the kernel would use for a datagram to `destination` (a connected UDP
// socket's local address; nothing is sent). nullopt if there is no route. For agents that listen
// on 0.0.0.0 but must name their address (docs/protocol.md 9.2). Never throws.
std::optional<std::uint32_t> source_address_toward(const Endpoint& destination) noexcept;

}  // namespace dmux::net
