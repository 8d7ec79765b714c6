#include "tools/loadgen/flow_sockets.h"

#include <sys/socket.h>

#include <cerrno>
#include <system_error>

#include "common/net/udp_socket.h"

namespace dmux::loadgen {

std::vector<net::UniqueFd> open_flow_sockets(const SendConfig& config) {
  std::vector<net::UniqueFd> fds;
  fds.reserve(config.flows);
  const sockaddr_in to = config.target.to_sockaddr();
  for (unsigned i = 0; i < config.flows; ++i) {
    const auto port =
        static_cast<std::uint16_t>(config.source_port_base == 0 ? 0 : config.source_port_base + i);
    const net::Endpoint from{config.source_addr, port};
    // Blocking: a full send buffer makes the sender wait instead of dropping on its own side.
    auto fd = net::open_udp_socket(from, {.reuse_port = false,
                                          .nonblocking = false,
                                          .rcvbuf_bytes = 0,
                                          .sndbuf_bytes = config.sndbuf_bytes});
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      throw std::system_error(
          errno, std::generic_category(),
          "cannot connect " + from.to_string() + " to " + config.target.to_string());
    }
    fds.push_back(std::move(fd));
  }
  return fds;
}

}  // namespace dmux::loadgen
